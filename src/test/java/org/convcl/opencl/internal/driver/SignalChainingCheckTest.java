package org.convcl.opencl.internal.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.convcl.testing.OpenClTesting;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** When the library warns about OpenCL drivers taking the JVM's signal handlers, and what it says. */
class SignalChainingCheckTest {
    @TempDir
    Path javaHome;

    private static final List<String> MAPS_WITH_POCL = List.of(
            "55d0c0a00000-55d0c0a01000 r--p 00000000 08:01 1311 /usr/lib/jvm/java-17/bin/java",
            "7f0a10000000-7f0a10021000 rw-p 00000000 00:00 0 ",
            "7f0a12000000-7f0a13000000 r-xp 00000000 08:01 2222 /usr/lib/x86_64-linux-gnu/libpocl.so.2.10.0",
            "7f0a14000000-7f0a18000000 r-xp 00000000 08:01 3333 /usr/lib/x86_64-linux-gnu/libLLVM-15.so.1",
            "7f0a14000000-7f0a18000000 r--p 00100000 08:01 3333 /usr/lib/x86_64-linux-gnu/libLLVM-15.so.1",
            "7f0a19000000-7f0a19001000 r--p 00000000 00:00 0 [vvar]",
            "7f0a1a000000-7f0a1a001000 r-xp 00000000 08:01 4444 /opt/odd dir/libfoo.so (deleted)");

    @Test
    void mappedLibrariesAreTheDistinctPathsIncludingOnesWithSpaces() {
        assertEquals(List.of("/usr/lib/jvm/java-17/bin/java", "/usr/lib/x86_64-linux-gnu/libpocl.so.2.10.0",
                "/usr/lib/x86_64-linux-gnu/libLLVM-15.so.1", "/opt/odd dir/libfoo.so"),
                SignalChainingCheck.mappedLibraries(MAPS_WITH_POCL));
    }

    @Test
    void anLlvmDriverWithoutLibjsigIsWarnedWithTheExactFix() throws Exception {
        Files.createDirectories(javaHome.resolve("lib"));
        Files.createFile(javaHome.resolve("lib/libjsig.so"));
        Optional<String> warning = SignalChainingCheck.problem(
                SignalChainingCheck.mappedLibraries(MAPS_WITH_POCL), javaHome.toString());
        assertTrue(warning.isPresent());
        String text = warning.get();
        assertTrue(text.contains("/usr/lib/x86_64-linux-gnu/libpocl.so.2.10.0"), text);
        assertTrue(text.contains("LD_PRELOAD=" + javaHome.resolve("lib/libjsig.so")), text);
        assertTrue(text.contains("SIGSEGV"), text);
        assertTrue(text.contains("-Dconvcl.backend=cpu"), text);
    }

    @Test
    void aRuntimeWithoutLibjsigIsToldToUseAJdksOne() {
        String text = SignalChainingCheck.problem(List.of("/usr/lib/libLLVM.so.18.1"), javaHome.toString()).orElseThrow();
        assertTrue(text.contains("LD_PRELOAD=<your JDK>/lib/libjsig.so"), text);
    }

    @Test
    void noWarningWithChainingOrWithoutAHandlerInstallingDriver() {
        assertEquals(Optional.empty(), SignalChainingCheck.problem(List.of("/usr/lib/jvm/x/lib/libjsig.so",
                "/usr/lib/x86_64-linux-gnu/libLLVM-15.so.1"), javaHome.toString()));
        assertEquals(Optional.empty(), SignalChainingCheck.problem(List.of(
                "/usr/lib/x86_64-linux-gnu/libnvidia-opencl.so.580.65", "/usr/lib/x86_64-linux-gnu/libOpenCL.so.1",
                "/usr/lib/x86_64-linux-gnu/libLLVMish-tool.txt"), javaHome.toString()));
    }

    /**
     * This JVM runs the OpenCL tests with the JDK's signal chaining (pom.xml preloads libjsig into Surefire's
     * JVM): after discovery has loaded the drivers, the check must find nothing to warn about. Fails when the
     * build stops preloading it while an LLVM driver is installed.
     */
    @Test
    void theTestJvmItselfRunsWithSignalChaining() throws Exception {
        assumeTrue(System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux"), "Linux only");
        assumeTrue(Files.isRegularFile(Path.of(System.getProperty("java.home"), "lib", "libjsig.so")),
                "this runtime has no libjsig");
        OpenClTesting.device();
        List<String> mapped = SignalChainingCheck.mappedLibraries(Files.readAllLines(Path.of("/proc/self/maps")));
        assertEquals(Optional.empty(), SignalChainingCheck.problem(mapped, System.getProperty("java.home")),
                "mapped: " + mapped);
    }
}
