package org.convcl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.spi.ToolProvider;
import org.convcl.testing.ApplicationPackages;
import org.convcl.testing.PackageGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The layering of the library jar's packages, as the JDK's jdeps sees the jar that users get: no group of packages
 * depends on each other (a cycle means none of them can be understood, tested or changed alone), and no library
 * package depends on an application package (the CLI, bench, demos, diagnostics, examples: the pom's
 * {@code convcl.applicationPackages}), which the library jar does not hold. Runs in {@code mvn verify} after
 * {@code package} (failsafe); skipped when the jar is not built or the test runs outside Maven.
 */
class LibraryLayeringIT {
    private static PackageGraph graph;
    private static ApplicationPackages applications;

    @BeforeAll
    static void readTheLibraryJarWithJdeps() {
        Path jar = Paths.get(System.getProperty("convcl.jar", "target/absent.jar"));
        assumeTrue(Files.isRegularFile(jar), "the library jar is built by mvn package: " + jar);
        applications = ApplicationPackages.fromBuild();
        assumeTrue(applications != null, "runs under Maven (failsafe), which passes convcl.applicationPackages");
        ToolProvider jdeps = ToolProvider.findFirst("jdeps").orElseThrow(() -> new AssertionError(
                "this JDK has no jdeps tool (module jdk.jdeps): " + System.getProperty("java.home")));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = jdeps.run(new PrintWriter(out, true), new PrintWriter(err, true), "-verbose:package",
                "-filter:none", jar.toString());
        assertEquals(0, exit, "jdeps -verbose:package -filter:none " + jar + ":\n" + out + err);
        graph = PackageGraph.fromJdeps(out.toString());
        // An output this parser misread would give an empty graph, in which every check below passes.
        assertTrue(graph.packages().contains("org.convcl") && graph.packages().contains("org.convcl.backend"),
                "jdeps reports the library's packages org.convcl and org.convcl.backend: " + graph.packages()
                        + "\n" + out);
    }

    @Test
    void noGroupOfLibraryPackagesDependsOnEachOther() {
        List<List<String>> cycles = graph.cycles();
        StringBuilder report = new StringBuilder();
        for (List<String> group : cycles) {
            report.append("cycle: ").append(String.join(" <-> ", group)).append('\n');
            for (String line : graph.edgesWithin(group)) {
                report.append("    ").append(line).append('\n');
            }
        }
        report.append("package cycles: ").append(cycles.size()).append(" group(s) among ")
                .append(graph.packages().size()).append(" packages");
        System.out.println(report);
        assertEquals(List.of(), cycles, "packages of the library jar that depend on each other (each group is a"
                + " cycle; under it, each package's dependencies within the group):\n" + report);
    }

    @Test
    void noLibraryPackageDependsOnAnApplicationPackage() {
        List<String> upward = new ArrayList<>();
        for (String source : graph.packages()) {
            if (applications.isApplication(source)) {
                continue;
            }
            for (String target : graph.dependenciesOf(source)) {
                if (applications.isApplication(target)) {
                    upward.add(source + " -> " + target);
                }
            }
        }
        assertEquals(List.of(), upward, "library packages that depend on the application packages "
                + applications.packages() + ", which the library jar does not hold: " + upward);
    }
}
