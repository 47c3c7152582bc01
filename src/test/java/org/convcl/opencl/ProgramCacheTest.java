package org.convcl.opencl;

import org.convcl.opencl.device.OpenClDevice;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.convcl.ConvGeometry;
import org.convcl.ConvSpec;
import org.convcl.opencl.internal.driver.PoclCache;
import org.convcl.opencl.internal.runtime.KernelSources;
import org.convcl.opencl.internal.runtime.ProgramBinaryCache;
import org.convcl.opencl.internal.runtime.ProgramCache;
import org.convcl.opencl.internal.plan.ConvPlan;
import org.convcl.opencl.internal.plan.KernelConfig;
import org.convcl.opencl.internal.plan.Tiling;
import org.convcl.testing.OpenClTesting;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Compiled programs on disk: reused by the next process, never trusted when corrupt or stale. */
class ProgramCacheTest {
    private static final ConvGeometry GEOMETRY = ConvSpec.builder().strides(2).build()
            .resolve(new int[] {1, 7, 5, 3}, new int[] {3, 2, 3, 4});

    @TempDir
    Path cacheDirectory;

    @TempDir
    Path kernels;

    @Test
    void secondBuildOfTheSameProgramLoadsTheCachedBinary() throws IOException {
        OpenClDevice device = OpenClTesting.device();
        ProgramCache.Stats first = planOnce(device);
        assertEquals(1, first.sourceBuilds(), "a cold cache compiles from source");
        assertEquals(List.of(), temporaryFiles(), "no temporary file is left behind");
        assertEquals(1, cacheFiles().size(), "the binary was written to disk");

        ProgramCache.Stats second = planOnce(device);
        assertEquals(0, second.sourceBuilds(), "a warm cache compiles nothing");
        assertEquals(1, second.binaryLoads());
    }

    @Test
    void corruptedEntryIsRebuiltFromSourceAndReplaced() throws IOException {
        OpenClDevice device = OpenClTesting.device();
        planOnce(device);
        Path entry = cacheFiles().get(0);
        byte[] bytes = Files.readAllBytes(entry);
        bytes[bytes.length - 10] ^= 0x5a;
        Files.write(entry, bytes);

        ProgramCache.Stats afterCorruption = planOnce(device);
        assertEquals(1, afterCorruption.sourceBuilds(), "a corrupt entry is rebuilt, not loaded");
        assertEquals(0, afterCorruption.binaryLoads());
        assertEquals(1, planOnce(device).binaryLoads(), "the rebuilt entry is valid again");

        Files.write(entry, new byte[] {1, 2, 3});
        assertEquals(1, planOnce(device).sourceBuilds(), "a truncated entry is rebuilt");
    }

    @Test
    void entryStoredForAnotherKeyIsNotUsed() throws IOException {
        OpenClDevice device = OpenClTesting.device();
        planOnce(device);
        Path entry = cacheFiles().get(0);
        // The same file name, but recorded for another driver version: what a stale or colliding entry is.
        String text = new String(Files.readAllBytes(entry), StandardCharsets.ISO_8859_1);
        String stale = text.replace("driver=" + device.driverVersion(), "driver=" + device.driverVersion() + "-old");
        assertFalse(stale.equals(text), "the stored key names the driver version");
        Files.write(entry, stale.getBytes(StandardCharsets.ISO_8859_1));

        ProgramCache.Stats afterStale = planOnce(device);
        assertEquals(1, afterStale.sourceBuilds(), "an entry for another key is ignored");
        assertEquals(0, afterStale.binaryLoads());
    }

    @Test
    void differentBuildOptionsAreDifferentEntries() throws IOException {
        OpenClDevice device = OpenClTesting.device();
        try (OpenClBackend backend = OpenClBackend.create(device, new ProgramBinaryCache(cacheDirectory))) {
            backend.plan(GEOMETRY, true, new KernelConfig.Gemm(new Tiling(16, 4, 8, 4, 4)));
            backend.plan(GEOMETRY, true, new KernelConfig.Gemm(new Tiling(16, 4, 8, 2, 2)));
            backend.plan(GEOMETRY, true, new KernelConfig.Gemm(new Tiling(16, 4, 8, 2, 2)));
            assertEquals(2, backend.context().programs().stats().sourceBuilds());
            assertEquals(2, backend.plans().size(), "the repeated plan is reused");
        }
        assertEquals(2, cacheFiles().size());
    }

    @Test
    void editingASharedSourceFileMakesANewEntry() throws IOException {
        OpenClDevice device = OpenClTesting.device();
        assertEquals(1, planOnce(device).sourceBuilds());
        // Only the shared file differs, by a comment: the kernel's own file and the options are the same.
        String shared = KernelSources.load(ConvPlan.GEOMETRY_SOURCE).text() + "/* edited */\n";
        Files.writeString(kernels.resolve(ConvPlan.GEOMETRY_SOURCE), shared, StandardCharsets.UTF_8);
        System.setProperty("convcl.kernels.dir", kernels.toString());
        try {
            ProgramCache.Stats edited = planOnce(device);
            assertEquals(1, edited.sourceBuilds(), "the old binary is not used for the edited source");
            assertEquals(0, edited.binaryLoads());
            assertEquals(2, cacheFiles().size());
            assertEquals(1, planOnce(device).binaryLoads(), "the edited source has an entry of its own");
        } finally {
            System.clearProperty("convcl.kernels.dir");
        }
    }

    @Test
    void defaultLocationHonoursTheOverride() {
        String previous = System.getProperty("convcl.cache.dir");
        try {
            System.setProperty("convcl.cache.dir", cacheDirectory.toString());
            assertEquals(cacheDirectory.resolve("programs"), ProgramBinaryCache.atDefaultLocation().directory().orElseThrow());
        } finally {
            if (previous == null) {
                System.clearProperty("convcl.cache.dir");
            } else {
                System.setProperty("convcl.cache.dir", previous);
            }
        }
    }

    @Test
    void poclWithItsOwnKernelCacheIsGivenNoBinariesToKeep() throws IOException {
        OpenClDevice device = OpenClTesting.device();
        // PoCL keeps what it compiles (POCL_KERNEL_CACHE on, its default); any other driver, or PoCL with its
        // cache off, gets convcl's.
        boolean driverKeepsPrograms = device.isPocl() && PoclCache.keepsCompiledPrograms(System.getenv());
        String previous = System.getProperty("convcl.cache.dir");
        try {
            System.setProperty("convcl.cache.dir", cacheDirectory.toString());
            try (OpenClBackend backend = OpenClBackend.create(device)) {
                backend.plan(GEOMETRY, true, new KernelConfig.Gemm(new Tiling(16, 4, 8, 4, 4)));
                assertEquals(1, backend.context().programs().stats().sourceBuilds());
            }
        } finally {
            if (previous == null) {
                System.clearProperty("convcl.cache.dir");
            } else {
                System.setProperty("convcl.cache.dir", previous);
            }
        }
        Path programs = cacheDirectory.resolve("programs");
        long stored;
        try (Stream<Path> files = Files.exists(programs) ? Files.list(programs) : Stream.empty()) {
            stored = files.filter(f -> f.toString().endsWith(".bin")).count();
        }
        assertEquals(driverKeepsPrograms ? 0 : 1, stored, device.describe());
    }

    /** Builds the test plan in a fresh backend (a new process, as far as caching goes) and reports how. */
    private ProgramCache.Stats planOnce(OpenClDevice device) {
        try (OpenClBackend backend = OpenClBackend.create(device, new ProgramBinaryCache(cacheDirectory))) {
            backend.plan(GEOMETRY, true, new KernelConfig.Gemm(new Tiling(16, 4, 8, 4, 4)));
            return backend.context().programs().stats();
        }
    }

    private List<Path> cacheFiles() throws IOException {
        try (Stream<Path> files = Files.list(cacheDirectory)) {
            return files.filter(f -> f.toString().endsWith(".bin")).sorted().toList();
        }
    }

    private List<Path> temporaryFiles() throws IOException {
        try (Stream<Path> files = Files.list(cacheDirectory)) {
            return files.filter(f -> f.toString().endsWith(".tmp")).toList();
        }
    }

    @Test
    void cacheDirectoryIsCreatedOnDemand() {
        Path nested = cacheDirectory.resolve("a").resolve("b");
        new ProgramBinaryCache(nested).store("key", new byte[] {1, 2, 3});
        assertTrue(Files.isDirectory(nested));
        assertEquals(3, new ProgramBinaryCache(nested).load("key").orElseThrow().length);
    }
}
