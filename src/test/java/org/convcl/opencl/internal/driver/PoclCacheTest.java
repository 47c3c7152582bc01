package org.convcl.opencl.internal.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** PoCL's cache directory as PoCL finds it, and the cause given when PoCL cannot use it (no OpenCL needed). */
class PoclCacheTest {
    @TempDir
    Path dir;

    @Test
    void theDirectoryIsFoundAsPoclFindsIt() {
        assertEquals(Path.of("/c/pocl"), PoclCache.directory(Map.of("POCL_CACHE_DIR", "/c/pocl",
                "XDG_CACHE_HOME", "/x", "HOME", "/h")));
        assertEquals(Path.of("/x/pocl/kcache"), PoclCache.directory(Map.of("XDG_CACHE_HOME", "/x", "HOME", "/h")));
        assertEquals(Path.of("/h/.cache/pocl/kcache"), PoclCache.directory(Map.of("XDG_CACHE_HOME", "",
                "HOME", "/h")));
        assertEquals(Path.of("/tmp/pocl/kcache"), PoclCache.directory(Map.of()));
        // Its kernel cache off, PoCL still makes a directory, beside the cache's.
        assertEquals(Path.of("/h/.cache/pocl/uncached"), PoclCache.directory(Map.of("HOME", "/h",
                "POCL_KERNEL_CACHE", "0")));
        assertEquals(Path.of("/h/.cache/pocl/kcache"), PoclCache.directory(Map.of("HOME", "/h",
                "POCL_KERNEL_CACHE", "1")));
    }

    @Test
    void compiledProgramsAreKeptUnlessTheKernelCacheIsTurnedOff() {
        assertTrue(PoclCache.keepsCompiledPrograms(Map.of()), "on by default");
        assertTrue(PoclCache.keepsCompiledPrograms(Map.of("POCL_KERNEL_CACHE", "1")));
        assertFalse(PoclCache.keepsCompiledPrograms(Map.of("POCL_KERNEL_CACHE", "0")));
        // PoCL reads a boolean by its first character.
        assertFalse(PoclCache.keepsCompiledPrograms(Map.of("POCL_KERNEL_CACHE", "")));
        assertFalse(PoclCache.keepsCompiledPrograms(Map.of("POCL_KERNEL_CACHE", "true")));
    }

    @Test
    void aCacheDirectoryThatCannotBeMadeIsNamedWithTheReasonAndTheRemedy() throws IOException {
        Path file = Files.writeString(dir.resolve("a-file"), "x");
        Optional<String> why = PoclCache.whyNoDevice(Map.of("XDG_CACHE_HOME", file.toString()));
        assertEquals(Optional.of("PoCL lists no device because it cannot use its cache directory "
                + file.resolve("pocl/kcache") + " (cannot create " + file.resolve("pocl") + ": Not a directory); "
                + "PoCL needs a writable cache directory even with its kernel cache off: set POCL_CACHE_DIR to one "
                + "(by default it is under $XDG_CACHE_HOME, else ~/.cache)"), why);
        Optional<String> configured = PoclCache.whyNoDevice(Map.of("POCL_CACHE_DIR", file.resolve("pocl").toString()));
        assertTrue(configured.orElseThrow().endsWith("set POCL_CACHE_DIR to one"), configured.orElseThrow());
    }

    @Test
    void aUsableCacheDirectoryIsNoCause() {
        assertEquals(Optional.empty(), PoclCache.whyNoDevice(Map.of("POCL_CACHE_DIR", dir.resolve("pocl").toString())));
        assertTrue(Files.isDirectory(dir.resolve("pocl")), "made as PoCL would make it");
    }

    @Test
    void poclIsKnownByItsPlatformName() {
        assertTrue(PoclCache.isPocl("Portable Computing Language"));
        assertFalse(PoclCache.isPocl("NVIDIA CUDA"));
    }
}
