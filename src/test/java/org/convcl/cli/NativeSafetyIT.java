package org.convcl.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.convcl.opencl.DeviceDiscovery;
import org.convcl.testing.SmallBenchSuite;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the CLI and the library do on machines with a real OpenCL driver stack, in separate processes through
 * the built jar and {@code scripts/convcl}: the JVM's signal handlers survive an LLVM-based driver (PoCL here),
 * a JVM without signal chaining is warned, and a machine with only the ICD loader's runtime name
 * ({@code libOpenCL.so.1}) still gets OpenCL through the script. Needs an OpenCL platform whose driver loads
 * LLVM (CI installs PoCL); the runtime-only case also needs root and mount namespaces to hide a file from
 * the dynamic linker without uninstalling anything.
 */
class NativeSafetyIT {
    private static final String HANDLER_MODIFIED = "handler modified";
    private static Path project;
    private static Path script;
    private static Path jar;

    @TempDir
    Path dir;

    record Outcome(int exitCode, String stdout, String stderr) {
        String all() {
            return stdout + stderr;
        }
    }

    @BeforeAll
    static void findTheBuiltJar() throws IOException {
        project = Paths.get(System.getProperty("convcl.basedir", System.getProperty("user.dir")));
        script = project.resolve("scripts").resolve("convcl");
        try (Stream<Path> jars = Files.list(project.resolve("target"))) {
            jar = jars.filter(p -> p.getFileName().toString().matches("convcl-.*-cli\\.jar")).findFirst().orElse(null);
        }
        assumeTrue(jar != null, "the CLI jar is built by mvn package");
        assumeTrue(System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux"),
                "signal chaining and the ICD loader's names are Linux matters");
    }

    /** Runs {@code command} with the test JVM's environment minus {@code LD_PRELOAD}, plus {@code extra}. */
    private static Outcome run(List<String> command, Map<String, String> extra) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(command);
        // The test JVM itself runs with libjsig preloaded (pom.xml); the processes here must start without it
        // so that only what is tested (scripts/convcl, or nothing) decides.
        builder.environment().remove("LD_PRELOAD");
        builder.environment().remove("JDK_JAVA_OPTIONS");
        builder.environment().remove("CONVCL_SIGNAL_CHAINING");
        builder.environment().putAll(extra);
        Path out = Files.createTempFile("convcl-it", ".out");
        Path err = Files.createTempFile("convcl-it", ".err");
        try {
            Process process = builder.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            process.getOutputStream().close();
            assertTrue(process.waitFor(240, TimeUnit.SECONDS), "finished within 4 minutes: " + command);
            return new Outcome(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** An OpenCL platform is needed whose driver loads LLVM: what the signal tests are about. */
    private static void assumeLlvmDriver() throws Exception {
        assumeTrue(!DeviceDiscovery.discover().devices().isEmpty(),
                "no OpenCL device: " + DeviceDiscovery.discover().problem().orElse("none found"));
        boolean llvm = Files.readAllLines(Path.of("/proc/self/maps")).stream()
                .anyMatch(line -> line.contains("/libLLVM") || line.contains("/libpocl"));
        assumeTrue(llvm, "no LLVM-based OpenCL driver (such as PoCL) is loaded here");
    }

    /** A bench run on the OpenCL backend: loads the driver, runs kernels, checks them against float64. */
    private List<String> checkedBench() throws IOException {
        List<String> command = new ArrayList<>(List.of(script.toString()));
        command.addAll(SmallBenchSuite.openClBenchArguments(dir));
        return command;
    }

    @Test
    void theScriptKeepsTheJvmSignalHandlersWhenAnLlvmDriverLoads() throws Exception {
        assumeLlvmDriver();
        // -Xcheck:jni makes the JVM check its signal handlers periodically and report any that changed.
        Outcome chained = run(checkedBench(), Map.of("JDK_JAVA_OPTIONS", "-Xcheck:jni"));
        assertEquals(0, chained.exitCode(), chained.all());
        assertFalse(chained.all().toLowerCase(Locale.ROOT).contains(HANDLER_MODIFIED), chained.all());
        // The bench checks its output against the reference: under -Xcheck:jni too, results are right.
        assertTrue(chained.stdout().lines().anyMatch(line -> line.startsWith(SmallBenchSuite.SHAPE)), chained.all());
        // libjsig's deprecation note about the driver's signal() calls is not the user's business.
        assertFalse(chained.stderr().contains("signal chaining was deprecated"), chained.stderr());
    }

    @Test
    void withoutChainingTheSameRunReportsTheDriverReplacingTheHandlers() throws Exception {
        // The control for the test above: the check it relies on does see the driver's handlers.
        assumeLlvmDriver();
        Outcome unchained = run(checkedBench(),
                Map.of("JDK_JAVA_OPTIONS", "-Xcheck:jni", "CONVCL_SIGNAL_CHAINING", "0"));
        assertTrue(unchained.all().toLowerCase(Locale.ROOT).contains(HANDLER_MODIFIED), unchained.all());
    }

    @Test
    void aJvmWithoutChainingIsWarnedByTheLibrary() throws Exception {
        assumeLlvmDriver();
        Outcome bare = run(List.of(java(), "-cp", jar.toString(), "org.convcl.cli.Main", "devices"), Map.of());
        assertEquals(0, bare.exitCode(), bare.all());
        List<String> warnings = bare.stderr().lines().filter(line -> line.contains("WARN")).toList();
        assertEquals(1, warnings.size(), bare.stderr());
        String warning = warnings.get(0);
        assertTrue(warning.contains("libjsig.so"), warning);
        assertTrue(warning.contains("LD_PRELOAD=" + Path.of(System.getProperty("java.home"), "lib", "libjsig.so")),
                warning);
        assertTrue(warning.contains("SIGSEGV"), warning);

        Outcome viaScript = run(List.of(script.toString(), "devices"), Map.of());
        assertEquals(0, viaScript.exitCode(), viaScript.all());
        assertFalse(viaScript.stderr().contains("libjsig"), viaScript.stderr());
    }

    @Test
    void javaPathWorkAfterAutoSelectionSurvivesWithTheJdksSignalChaining() throws Exception {
        // The crash case of a library user on this JDK: auto discovers the LLVM driver, then the Java path loops
        // on all cores. Without chaining this died with SIGSEGV in one run of four here (exit 139); with the
        // JDK's libjsig preloaded, as the README tells library users, it must survive every run.
        assumeLlvmDriver();
        Path jsig = Path.of(System.getProperty("java.home"), "lib", "libjsig.so");
        assumeTrue(Files.isRegularFile(jsig), "this runtime has no libjsig");
        String classpath = jar + java.io.File.pathSeparator + project.resolve("target").resolve("test-classes");
        for (int run = 0; run < 3; run++) {
            Outcome outcome = run(List.of(java(), "-Dorg.slf4j.simpleLogger.defaultLogLevel=error", "-cp", classpath,
                    "org.convcl.testing.JavaPathAfterAutoLoop", "40"), Map.of("LD_PRELOAD", jsig.toString()));
            assertEquals(0, outcome.exitCode(), "run " + run + ": " + outcome.all());
            assertTrue(outcome.stdout().contains("ok backend cpu"), outcome.all());
        }
    }

    /**
     * Runs the rest of its arguments in a private mount namespace where the dynamic linker cannot find the
     * unversioned {@code libOpenCL.so}: each directory holding it is overlaid with a whiteout of that one name,
     * so {@code libOpenCL.so.1} and everything else stay visible, as with the runtime package alone.
     */
    private static final String WITHOUT_UNVERSIONED_LOADER = """
            set -euo pipefail
            mkdir -p "$1"; work="$(mktemp -d "$1/namespace.XXXXXX")"; shift
            n=0
            for path in $( { ldconfig -p | awk '$1 == "libOpenCL.so" { print $NF }'
                             for d in /lib /usr/lib /lib64 /usr/lib64; do echo "$d/libOpenCL.so"; done; } | sort -u ); do
                [[ -e "$path" || -L "$path" ]] || continue
                folder="$(cd "$(dirname "$path")" && pwd -P)"
                grep -q " $folder overlay " /proc/self/mounts && continue
                n=$((n + 1)); mkdir -p "$work/upper$n" "$work/work$n"
                mknod "$work/upper$n/libOpenCL.so" c 0 0
                mount -t overlay overlay -o "lowerdir=$folder,upperdir=$work/upper$n,workdir=$work/work$n" "$folder"
            done
            exec "$@"
            """;

    private Outcome runWithoutUnversionedLoader(List<String> command, Path home) throws Exception {
        List<String> wrapped = new ArrayList<>(List.of("unshare", "--mount", "bash", "-c", WITHOUT_UNVERSIONED_LOADER,
                "hide-libOpenCL.so", dir.resolve("overlay").toString()));
        wrapped.addAll(command);
        Map<String, String> env = Map.of("HOME", home.toString(), "XDG_CACHE_HOME", home.resolve(".cache").toString(),
                "LD_LIBRARY_PATH", "");
        return run(wrapped, env);
    }

    @Test
    void theScriptFindsTheLoaderWhereOnlyItsRuntimeNameIsInstalled() throws Exception {
        assumeTrue(!DeviceDiscovery.discover().devices().isEmpty(),
                "no OpenCL device: " + DeviceDiscovery.discover().problem().orElse("none found"));
        Path home = Files.createDirectories(dir.resolve("home"));
        Outcome probe = runWithoutUnversionedLoader(List.of("true"), home);
        assumeTrue(probe.exitCode() == 0, "a mount namespace with an overlay needs root and unshare: " + probe.all());

        // The control: a bare JVM cannot load OpenCL there, and says why in one line.
        Outcome bare = runWithoutUnversionedLoader(
                List.of(java(), "-cp", jar.toString(), "org.convcl.cli.Main", "devices"), home);
        assertEquals(0, bare.exitCode(), bare.all());
        assertTrue(bare.stdout().contains("installed only as"), bare.all());
        assertTrue(bare.stdout().contains("libOpenCL.so.1"), bare.all());

        Outcome scripted = runWithoutUnversionedLoader(List.of(script.toString(), "devices"), home);
        assertEquals(0, scripted.exitCode(), scripted.all());
        assertTrue(scripted.stdout().contains("Platform 0:"), scripted.all());
        Path link = home.resolve(".cache/convcl/opencl-loader/libOpenCL.so");
        assertTrue(Files.isSymbolicLink(link), "the link is kept in the user's cache directory: " + link);
        assertTrue(Files.readSymbolicLink(link).getFileName().toString().equals("libOpenCL.so.1"),
                Files.readSymbolicLink(link).toString());

        // The second run reuses the link, and a computation on the device works through it.
        Outcome bench = runWithoutUnversionedLoader(checkedBench(), home);
        assertEquals(0, bench.exitCode(), bench.all());
        assertTrue(bench.stdout().lines().anyMatch(line -> line.startsWith(SmallBenchSuite.SHAPE)), bench.all());
    }
}
