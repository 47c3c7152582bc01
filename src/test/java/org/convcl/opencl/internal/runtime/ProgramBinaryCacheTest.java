package org.convcl.opencl.internal.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The on-disk entry format alone (no OpenCL needed): only a verified entry for the same key is returned. */
class ProgramBinaryCacheTest {
    @TempDir
    Path directory;

    @Test
    void storedBinaryComesBackForTheSameKeyOnly() {
        ProgramBinaryCache cache = new ProgramBinaryCache(directory);
        byte[] binary = {7, 6, 5, 4, 3, 2, 1};
        cache.store("device=a\noptions=-D X=1\n", binary);
        assertArrayEquals(binary, cache.load("device=a\noptions=-D X=1\n").orElseThrow());
        assertTrue(cache.load("device=a\noptions=-D X=2\n").isEmpty());
    }

    @Test
    void everyKindOfDamageIsAMissAndRemovesTheEntry() throws IOException {
        ProgramBinaryCache cache = new ProgramBinaryCache(directory);
        String key = "device=a\n";
        byte[] binary = new byte[64];
        Arrays.fill(binary, (byte) 9);
        cache.store(key, binary);
        Path entry = cache.fileFor(key);
        byte[] good = Files.readAllBytes(entry);

        for (int cut : new int[] {0, 5, 12, 20, good.length - 1}) {
            Files.write(entry, Arrays.copyOf(good, cut));
            assertTrue(cache.load(key).isEmpty(), "truncated to " + cut + " bytes");
            assertFalse(Files.exists(entry), "a damaged entry is deleted");
        }
        byte[] flipped = good.clone();
        flipped[flipped.length - 1] ^= 1;
        Files.write(entry, flipped);
        assertTrue(cache.load(key).isEmpty(), "a flipped bit in the binary");
        byte[] longer = Arrays.copyOf(good, good.length + 3);
        Files.write(entry, longer);
        assertTrue(cache.load(key).isEmpty(), "trailing bytes");
        byte[] badMagic = good.clone();
        badMagic[0] = 'X';
        Files.write(entry, badMagic);
        assertTrue(cache.load(key).isEmpty(), "another file format");

        Files.write(entry, good);
        assertArrayEquals(binary, cache.load(key).orElseThrow(), "the intact entry still loads");
    }

    @Test
    void unwritableDirectoryOnlyDisablesCachingSayingWhereAndWhy() throws IOException {
        Path file = directory.resolve("not-a-directory");
        Files.writeString(file, "x");
        List<String> reports = new ArrayList<>();
        ProgramBinaryCache cache = new ProgramBinaryCache(file.resolve("programs"), reports::add);
        assertTrue(cache.unwritableReason().isEmpty(), "nothing known before the first write");
        assertTrue(cache.writes(), "binaries are worth reading back until a write fails");
        cache.store("key", new byte[] {1});
        assertTrue(cache.load("key").isEmpty());
        assertFalse(cache.writes(), "no binary is read back for a directory that cannot hold it");
        assertFalse(new ProgramBinaryCache(null).writes(), "nor for a disabled cache");
        String reason = "cannot create " + file.resolve("programs") + ": Not a directory";
        assertEquals(Optional.of(reason), cache.unwritableReason(), "the system's reason, naming the path");
        assertEquals(List.of("OpenCL program cache " + file.resolve("programs") + " cannot be used (" + reason
                + "); kernels are built without the disk cache, so every process compiles them again. Set "
                + "convcl.cache.dir or CONVCL_CACHE_DIR to a writable directory"), reports);
        assertTrue(new ProgramBinaryCache(null).load("key").isEmpty());
    }

    /** After the first failure the cache stops writing, rather than failing (and reporting) on every program. */
    @Test
    void aDirectoryFoundUnwritableIsNotTriedAgain() throws IOException {
        Path file = directory.resolve("later-a-directory");
        Files.writeString(file, "x");
        List<String> reports = new ArrayList<>();
        ProgramBinaryCache cache = new ProgramBinaryCache(file, reports::add);
        cache.store("first", new byte[] {1});
        assertEquals(Optional.of(file + " exists and is not a directory"), cache.unwritableReason());
        Files.delete(file);
        cache.store("second", new byte[] {2});
        assertFalse(Files.exists(file), "no second attempt made the directory");
        assertTrue(cache.load("second").isEmpty());
        assertEquals(1, reports.size(), "reported once: " + reports);
    }
}
