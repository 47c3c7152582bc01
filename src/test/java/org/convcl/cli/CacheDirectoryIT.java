package org.convcl.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.convcl.opencl.DeviceDiscovery;
import org.convcl.testing.Processes;
import org.convcl.testing.SmallBenchSuite;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Cache directories that cannot be used, through {@code scripts/convcl} as a user meets them: PoCL's own (PoCL
 * then lists no device, and the error must say why and what to set) and convcl's program cache (kernels are then
 * built without it, after one WARN naming it). Needs PoCL, the OpenCL driver CI installs.
 */
class CacheDirectoryIT {
    @TempDir
    Path dir;

    private Path script;
    /** A regular file: no directory can be made under it, whoever runs the test (root included). */
    private Path file;

    @BeforeEach
    void needsPocl() throws Exception {
        Path project = Paths.get(System.getProperty("convcl.basedir", System.getProperty("user.dir")));
        script = project.resolve("scripts").resolve("convcl");
        assumeTrue(DeviceDiscovery.discover().devices().stream()
                        .anyMatch(device -> device.platformName().contains("Portable Computing Language")),
                "PoCL is not installed here");
        file = Files.writeString(dir.resolve("a-file"), "not a directory");
    }

    private Processes.Outcome bench(Map<String, String> environment) throws Exception {
        Map<String, String> changes = new HashMap<>(environment);
        changes.putIfAbsent("POCL_CACHE_DIR", null);
        changes.putIfAbsent("CONVCL_CACHE_DIR", null);
        changes.putIfAbsent("POCL_KERNEL_CACHE", null);
        changes.put("CONVCL_DEBUG", null);
        List<String> command = new ArrayList<>(List.of(script.toString()));
        command.addAll(SmallBenchSuite.openClBenchArguments(dir));
        return Processes.run(command, changes, 240);
    }

    @Test
    void aPoclCacheThatCannotBeMadeIsNamedWithTheVariableThatFixesIt() throws Exception {
        Processes.Outcome outcome = bench(Map.of("XDG_CACHE_HOME", file.resolve("cache").toString(),
                "HOME", file.resolve("home").toString()));
        assertEquals(2, outcome.exitCode(), outcome.all());
        assertEquals("", outcome.stdout());
        String line = outcome.stderr().strip();
        assertEquals(1, outcome.stderr().lines().count(), "one line: " + outcome.stderr());
        assertTrue(line.startsWith("convcl: backend: opencl was requested but cannot be used: "), line);
        assertTrue(line.contains("PoCL lists no device because it cannot use its cache directory "
                + file.resolve("cache/pocl/kcache") + " (cannot create " + file), line);
        assertTrue(line.contains(": Not a directory)"), line);
        assertTrue(line.contains("set POCL_CACHE_DIR to one"), line);
    }

    @Test
    void anUnusableProgramCacheIsReportedOnceAndKernelsAreBuiltWithoutIt() throws Exception {
        Path programs = file.resolve("convcl").resolve("programs");
        // PoCL's kernel cache off: PoCL then keeps no compiled program, so convcl uses its own program cache.
        Processes.Outcome outcome = bench(Map.of("POCL_CACHE_DIR", dir.resolve("pocl").toString(),
                "POCL_KERNEL_CACHE", "0", "CONVCL_CACHE_DIR", file.resolve("convcl").toString()));
        assertEquals(0, outcome.exitCode(), outcome.all());
        assertTrue(outcome.stdout().lines().anyMatch(row -> row.startsWith(SmallBenchSuite.SHAPE)), outcome.all());
        List<String> warnings = outcome.stderr().lines().filter(row -> row.contains("WARN")).toList();
        assertEquals(1, warnings.size(), outcome.stderr());
        assertTrue(warnings.get(0).contains("OpenCL program cache " + programs + " cannot be used (cannot create "
                + file.resolve("convcl") + ": Not a directory); kernels are built without the disk cache"),
                warnings.get(0));
        assertTrue(warnings.get(0).contains("CONVCL_CACHE_DIR"), warnings.get(0));
    }
}
