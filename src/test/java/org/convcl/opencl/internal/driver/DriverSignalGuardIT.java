package org.convcl.opencl.internal.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.convcl.opencl.DeviceDiscovery;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The library keeps the JVM's signal handlers by itself on JDK 22 and newer (no libjsig, no wrapper): forked
 * JVMs of such a JDK run OpenCL work on an LLVM-based driver (PoCL) and then Java-path work, and must keep
 * their handlers and survive. The JDK comes from {@code CONVCL_TEST_JAVA22_HOME}, else from the JDKs installed
 * beside the one running the tests; without one the tests are skipped, saying so.
 */
class DriverSignalGuardIT {
    private static String classpath;
    private static Path newerJava;

    record Outcome(int exitCode, String output) {
    }

    @BeforeAll
    static void setUp() throws IOException {
        assumeTrue(System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux"), "Linux only");
        Path project = Paths.get(System.getProperty("convcl.basedir", System.getProperty("user.dir")));
        Path jar;
        try (Stream<Path> jars = Files.list(project.resolve("target"))) {
            jar = jars.filter(p -> p.getFileName().toString().matches("convcl-.*-cli\\.jar")).findFirst().orElse(null);
        }
        assumeTrue(jar != null, "the CLI jar is built by mvn package");
        classpath = jar + java.io.File.pathSeparator + project.resolve("target").resolve("test-classes");
        assumeTrue(!DeviceDiscovery.discover().devices().isEmpty(), "no OpenCL device");
        assumeTrue(Files.readAllLines(Path.of("/proc/self/maps")).stream().anyMatch(l -> l.contains("/libLLVM")),
                "no LLVM-based OpenCL driver is loaded here");
        newerJava = findJdk22OrNewer().orElse(null);
        assumeTrue(newerJava != null, "no JDK 22 or newer found (set CONVCL_TEST_JAVA22_HOME)");
    }

    /** A JDK of feature version 22 or more: the one named by the environment, or one beside this test's JDK. */
    static Optional<Path> findJdk22OrNewer() throws IOException {
        String named = System.getenv("CONVCL_TEST_JAVA22_HOME");
        if (named != null && !named.isBlank()) {
            return Optional.of(Path.of(named, "bin", "java"));
        }
        Path parent = Path.of(System.getProperty("java.home")).toRealPath().getParent();
        if (parent == null) {
            return Optional.empty();
        }
        Pattern version = Pattern.compile("^JAVA_VERSION=\"(\\d+)");
        List<Path> found = new ArrayList<>();
        try (Stream<Path> homes = Files.list(parent)) {
            for (Path home : homes.sorted().toList()) {
                Path release = home.resolve("release");
                if (!Files.isRegularFile(release) || !Files.isExecutable(home.resolve("bin/java"))) {
                    continue;
                }
                for (String line : Files.readAllLines(release)) {
                    Matcher m = version.matcher(line);
                    if (m.find() && Integer.parseInt(m.group(1)) >= 22) {
                        found.add(home.resolve("bin/java"));
                    }
                }
            }
        }
        return found.stream().findFirst();
    }

    private static Outcome run(Map<String, String> env, String... command) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().remove("LD_PRELOAD"); // the test JVM's own libjsig must not help the forked ones
        builder.environment().remove("JDK_JAVA_OPTIONS");
        builder.environment().remove("CONVCL_SIGNALS_RESTORE");
        builder.environment().putAll(env);
        Path out = Files.createTempFile("convcl-it", ".out");
        try {
            Process process = builder.redirectOutput(out.toFile()).start();
            process.getOutputStream().close();
            assertTrue(process.waitFor(300, TimeUnit.SECONDS), "finished within 5 minutes: " + List.of(command));
            return new Outcome(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
        }
    }

    private static Outcome probe(String restore) throws Exception {
        return run(Map.of(), newerJava.toString(), "--enable-native-access=ALL-UNNAMED",
                "-Dconvcl.signals.restore=" + restore, "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                "-cp", classpath, SignalHandlerProbe.class.getName());
    }

    @Test
    void openClWorkLeavesEveryHandlerAsItWas() throws Exception {
        Outcome guarded = probe("true");
        assertEquals(0, guarded.exitCode(), guarded.output());
        assertTrue(guarded.output().contains("guard active true"), guarded.output());
        // No WARN about signal chaining: there is nothing left to warn about.
        assertTrue(!guarded.output().contains("libjsig"), guarded.output());
    }

    @Test
    void withoutTheGuardTheDriverKeepsItsHandlers() throws Exception {
        // The control: the probe does see what the driver installs, and the library then warns.
        Outcome unguarded = probe("false");
        assertEquals(1, unguarded.exitCode(), unguarded.output());
        assertTrue(unguarded.output().contains("libjsig"), unguarded.output());
    }

    @Test
    void javaPathWorkAfterAutoSelectionSurvives() throws Exception {
        // Three runs of the loop that died with SIGSEGV in one run of four on JDK 17 without chaining: plain
        // loops (no Vector API), so that the threads spend long in compiled loops with safepoint polls.
        for (int run = 0; run < 3; run++) {
            Outcome outcome = run(Map.of(), newerJava.toString(), "--enable-native-access=ALL-UNNAMED",
                    "-Dorg.slf4j.simpleLogger.defaultLogLevel=error",
                    "-cp", classpath, "org.convcl.testing.JavaPathAfterAutoLoop", "40");
            assertEquals(0, outcome.exitCode(), "run " + run + ": " + outcome.output());
            assertTrue(outcome.output().contains("ok backend cpu"), outcome.output());
        }
    }
}
