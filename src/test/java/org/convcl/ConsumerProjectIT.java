package org.convcl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.convcl.testing.ApplicationPackages;
import org.convcl.testing.Processes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a project that depends on convcl gets, found as its build finds it: the library jar built by this build and
 * the pom.xml it is published with are installed into a throwaway repository; a throwaway consumer project depends
 * on them, and Maven lists that project's runtime dependencies. They must be exactly JOCL and slf4j-api: picocli
 * and the logging binding belong to the CLI jar, and the library reads and writes its JSON itself. No jar on that
 * class path, nor the sources jar, holds anything of the application packages (the CLI, bench, demos, diagnostics,
 * examples: the pom's {@code convcl.applicationPackages}) or their resources: those are the CLI jar's alone. Then a
 * program of the consumer's, on exactly that class path, convolves on the Java path, round-trips JSON and reads a
 * tuning database, the library's JSON paths, and finds neither the CLI ({@code org.convcl.cli.Main}) nor the CLI's
 * or the tests' libraries.
 *
 * <p>The consumer's build uses a local repository of its own, so that nothing of this test lands in the user's;
 * it reads the user's local repository as a file repository before Maven Central, so that it needs the network
 * only for what that repository lacks (a fresh CI machine, the first time). Runs in {@code mvn verify} after
 * {@code package} (failsafe), and is skipped when the jar is not there or the test runs outside Maven. Last, the same
 * jars on the module path: a named module requiring {@code org.convcl} runs with the README's one extra option.
 */
class ConsumerProjectIT {
    /** A line of {@code dependency:list}: {@code   group:artifact:type[:classifier]:version:scope[ -- module m]}. */
    private static final Pattern LISTED = Pattern.compile("^\\s*([^:\\s]+):([^:\\s]+):\\S*:(\\w+)(?:\\s.*)?$");
    private static final int TIMEOUT_SECONDS = 300;

    @TempDir
    Path dir;

    @Test
    void aConsumerGetsExactlyJoclAndSlf4jApiAtRunTimeAndTheLibraryWorksWithThem() throws Exception {
        Path jar = Paths.get(System.getProperty("convcl.jar", "target/absent.jar"));
        String mavenHome = System.getProperty("convcl.maven.home");
        assumeTrue(Files.isRegularFile(jar), "the library jar is built by mvn package: " + jar);
        assumeTrue(mavenHome != null, "runs under Maven (failsafe), which names its own installation");
        ApplicationPackages applications = ApplicationPackages.fromBuild();
        assertTrue(applications != null, "failsafe passes the pom's convcl.applicationPackages with its Maven home");
        Path project = Paths.get(System.getProperty("convcl.basedir", System.getProperty("user.dir")));
        String groupId = System.getProperty("convcl.groupId");
        String artifactId = System.getProperty("convcl.artifactId");
        String version = System.getProperty("convcl.version");
        Path userRepository = Paths.get(System.getProperty("convcl.maven.localRepository"));
        Path repository = dir.resolve("repository");
        Path mvn = Paths.get(mavenHome, "bin", "mvn");
        Map<String, String> environment = new HashMap<>();
        environment.put("JAVA_HOME", System.getProperty("java.home"));
        environment.put("MAVEN_ARGS", null);

        // 1. Install the artifact as `mvn install` does, into the throwaway repository.
        Processes.Outcome install = Processes.run(List.of(mvn.toString(), "-B", "-q",
                "-Dmaven.repo.local=" + userRepository,
                "org.apache.maven.plugins:maven-install-plugin:" + System.getProperty("convcl.maven.installPlugin")
                        + ":install-file",
                "-Dfile=" + jar, "-DpomFile=" + project.resolve("pom.xml"), "-DlocalRepositoryPath=" + repository),
                environment, dir, TIMEOUT_SECONDS);
        assertEquals(0, install.exitCode(), "install-file: " + install.all());
        String base = groupId.replace('.', '/') + "/" + artifactId + "/" + version + "/" + artifactId + "-" + version;
        assertTrue(Files.isRegularFile(repository.resolve(base + ".jar")), "installed " + base + ".jar");

        // 2. A consumer project, as a user writes it, and its runtime dependencies and class path.
        Path consumer = Files.createDirectories(dir.resolve("consumer"));
        String userRepositoryUrl = userRepository.toUri().toString();
        Files.writeString(consumer.resolve("pom.xml"), """
                <project xmlns="http://maven.apache.org/POM/4.0.0">
                  <modelVersion>4.0.0</modelVersion>
                  <groupId>org.example</groupId>
                  <artifactId>convcl-consumer</artifactId>
                  <version>1.0</version>
                  <dependencies>
                    <dependency>
                      <groupId>%s</groupId>
                      <artifactId>%s</artifactId>
                      <version>%s</version>
                    </dependency>
                  </dependencies>
                  <repositories>
                    <repository>
                      <id>user-local</id>
                      <url>%s</url>
                      <snapshots><enabled>false</enabled></snapshots>
                    </repository>
                  </repositories>
                  <pluginRepositories>
                    <pluginRepository>
                      <id>user-local</id>
                      <url>%4$s</url>
                      <snapshots><enabled>false</enabled></snapshots>
                    </pluginRepository>
                  </pluginRepositories>
                </project>
                """.formatted(groupId, artifactId, version, userRepositoryUrl));
        Path listed = dir.resolve("runtime-dependencies.txt");
        Path classPath = dir.resolve("classpath.txt");
        String dependencyPlugin = "org.apache.maven.plugins:maven-dependency-plugin:"
                + System.getProperty("convcl.maven.dependencyPlugin");
        Processes.Outcome list = Processes.run(List.of(mvn.toString(), "-B", "-q",
                "-Dmaven.repo.local=" + repository, dependencyPlugin + ":list", dependencyPlugin + ":build-classpath",
                "-DincludeScope=runtime", "-Dsort=true", "-DoutputFile=" + listed, "-Dmdep.outputFile=" + classPath),
                environment, consumer, TIMEOUT_SECONDS);
        assertEquals(0, list.exitCode(), "dependency:list: " + list.all());
        String listing = Files.readString(listed);
        System.out.println("The consumer's runtime dependencies (mvn dependency:list -DincludeScope=runtime):\n"
                + listing);
        List<String> runtime = new ArrayList<>();
        for (String line : listing.lines().toList()) {
            Matcher matcher = LISTED.matcher(line);
            if (matcher.matches()) {
                runtime.add(matcher.group(1) + ":" + matcher.group(2) + " (" + matcher.group(3) + ")");
            }
        }
        assertEquals(List.of(groupId + ":" + artifactId + " (compile)", "org.jocl:jocl (compile)",
                "org.slf4j:slf4j-api (compile)"), runtime.stream().sorted().toList(), listing);

        // The applications are not the library's: no jar of the consumer's class path (the installed library jar
        // among them) and not the sources jar holds a class, source or resource of theirs.
        List<String> consumerJars = List.of(Files.readString(classPath).strip().split(File.pathSeparator));
        assertTrue(consumerJars.stream().anyMatch(j -> j.endsWith(artifactId + "-" + version + ".jar")),
                "the library jar is on the consumer's class path: " + consumerJars);
        List<String> sources = new ArrayList<>(consumerJars);
        Path sourcesJar = Paths.get(System.getProperty("convcl.sourcesJar", "target/absent-sources.jar"));
        assertTrue(Files.isRegularFile(sourcesJar), "mvn package builds the sources jar: " + sourcesJar);
        sources.add(sourcesJar.toString());
        for (String candidate : sources) {
            List<String> leaked = applications.applicationEntriesOf(Paths.get(candidate));
            assertEquals(List.of(), leaked, candidate + " holds entries of the application packages "
                    + applications.packages() + " or their resources");
        }

        // 3. The library on exactly that class path: its JSON paths need nothing more.
        Path tuning = dir.resolve("tuning.json");
        Files.writeString(tuning, """
                {"format": 1, "device": "Test GPU", "vendor": "Test Vendor", "driver": "1.0", "platform": "Test",
                 "entries": [{"geometry": "g", "batch": 4, "ms": 1.5, "default_ms": null, "candidates": 3,
                              "config": {"kernel": "gemm", "tile_m": 64, "tile_n": 32, "tile_k": 16, "wpt_m": 4,
                                         "wpt_n": 4, "vwm": 4, "vwn": 2, "vec_k": 4}}]}
                """);
        Path program = Files.writeString(consumer.resolve("Consumer.java"), """
                import java.nio.file.Path;
                import java.util.Arrays;
                import java.util.List;
                import org.convcl.nn.Convolution;
                import org.convcl.ConvSpec;
                import org.convcl.Padding;
                import org.convcl.Tensor;
                import org.convcl.backend.BackendChoice;
                import org.convcl.internal.Json;
                import org.convcl.nn.Backends;
                import org.convcl.opencl.internal.tuning.TuningDatabase;

                public class Consumer {
                    public static void main(String[] args) throws Exception {
                        Tensor x = Tensor.of(new float[] {1, 2, 3, 4}, 1, 4, 1);
                        Tensor kernel = Tensor.of(new float[] {1, 10}, 2, 1, 1);
                        Tensor y = Convolution.conv(x, kernel, null, ConvSpec.builder().padding(Padding.VALID).build(),
                                Backends.select(BackendChoice.CPU));
                        System.out.println("conv " + Arrays.toString(y.data()));
                        Object json = Json.parse("{\\"shape\\": [1, 4, 1], \\"name\\": \\"x\\", \\"ms\\": 1.5}");
                        System.out.println("json " + json.equals(Json.parse(Json.write(json))));
                        TuningDatabase database = TuningDatabase.at(Path.of(args[0]),
                                new TuningDatabase.DeviceIdentity("Test GPU", "Test Vendor", "1.0", "Test"));
                        TuningDatabase.Entry entry = database.entries().get(0);
                        System.out.println("tuning " + database.entries().size() + " " + entry.geometry() + " "
                                + entry.batch() + " " + entry.ms() + " " + entry.defaultMs());
                        for (String name : List.of("org.convcl.cli.Main", "picocli.CommandLine",
                                "org.slf4j.simple.SimpleLogger",
                                "com.fasterxml.jackson.jr.ob.JSON", "com.fasterxml.jackson.core.JsonFactory")) {
                            try {
                                Class.forName(name);
                                System.out.println("present " + name);
                            } catch (ClassNotFoundException e) {
                                System.out.println("absent " + name);
                            }
                        }
                    }
                }
                """);
        String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
        Processes.Outcome run = Processes.run(List.of(java, "--add-modules", "jdk.incubator.vector", "-cp",
                Files.readString(classPath).strip(), program.toString(), tuning.toString()), environment, consumer,
                TIMEOUT_SECONDS);
        assertEquals(0, run.exitCode(), run.all());
        List<String> lines = run.stdout().lines().toList();
        assertEquals("conv [21.0, 32.0, 43.0]", lines.get(0), run.all());
        assertEquals("json true", lines.get(1), run.all());
        assertEquals("tuning 1 g 4 1.5 NaN", lines.get(2), run.all());
        assertEquals(List.of("absent org.convcl.cli.Main", "absent picocli.CommandLine",
                "absent org.slf4j.simple.SimpleLogger",
                "absent com.fasterxml.jackson.jr.ob.JSON", "absent com.fasterxml.jackson.core.JsonFactory"),
                lines.subList(3, lines.size()), run.all());

        // 4. The same jars on the module path, with the one extra option the README gives for it: a named module
        //    that requires convcl's automatic module compiles against it and convolves.
        Path moduleSource = Files.createDirectories(consumer.resolve("module/org/example/consumer"));
        Files.writeString(consumer.resolve("module/module-info.java"),
                "module org.example.consumer { requires org.convcl; }\n");
        Files.writeString(moduleSource.resolve("Main.java"), """
                package org.example.consumer;

                import java.util.Arrays;
                import org.convcl.nn.Convolution;
                import org.convcl.ConvSpec;
                import org.convcl.Padding;
                import org.convcl.Tensor;
                import org.convcl.backend.BackendChoice;
                import org.convcl.nn.Backends;

                public class Main {
                    public static void main(String[] args) {
                        Tensor x = Tensor.of(new float[] {1, 2, 3, 4}, 1, 4, 1);
                        Tensor kernel = Tensor.of(new float[] {1, 10}, 2, 1, 1);
                        Tensor y = Convolution.conv(x, kernel, null, ConvSpec.builder().padding(Padding.VALID).build(),
                                Backends.select(BackendChoice.CPU));
                        System.out.println("conv " + Arrays.toString(y.data()));
                    }
                }
                """);
        String modulePath = Files.readString(classPath).strip();
        Path classes = consumer.resolve("module-classes");
        Processes.Outcome compile = Processes.run(List.of(
                Paths.get(System.getProperty("java.home"), "bin", "javac").toString(), "--module-path", modulePath,
                "-d", classes.toString(), consumer.resolve("module/module-info.java").toString(),
                moduleSource.resolve("Main.java").toString()), environment, consumer, TIMEOUT_SECONDS);
        assertEquals(0, compile.exitCode(), "javac on the module path: " + compile.all());
        Processes.Outcome modular = Processes.run(List.of(java, "--module-path",
                modulePath + File.pathSeparator + classes, "--add-modules", "org.slf4j,jdk.incubator.vector",
                "-m", "org.example.consumer/org.example.consumer.Main"), environment, consumer, TIMEOUT_SECONDS);
        assertEquals(0, modular.exitCode(), "the module path: " + modular.all());
        assertEquals("conv [21.0, 32.0, 43.0]", modular.stdout().lines().findFirst().orElse(""), modular.all());
    }
}
