package org.convcl.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.convcl.Tensor;
import org.convcl.io.Npy;
import org.convcl.testing.RandomTensors;
import org.convcl.testing.SpecialFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * All or none: outputs that fail after {@link OutputFiles#declare} (a directory removed meanwhile, a target
 * that became a directory) take the outputs written before them in the same run away with them.
 */
class OutputFilesTest {

    @TempDir
    Path dir;

    private final Tensor first = RandomTensors.uniform(new SplittableRandom(1), 2, 3);
    private final Tensor second = RandomTensors.uniform(new SplittableRandom(2), 4);

    @Test
    void writesEveryOutputWithItsTensor() throws IOException {
        OutputFiles outputs = new OutputFiles();
        outputs.declare("--output", dir.resolve("y.npy"));
        outputs.declare("--grad-input", dir.resolve("dx.npy"));
        outputs.put("--output", first);
        outputs.put("--grad-input", second);

        outputs.writeAll();

        assertArrayEquals(first.data(), Npy.read(dir.resolve("y.npy")).data());
        assertArrayEquals(second.data(), Npy.read(dir.resolve("dx.npy")).data());
        assertEquals(List.of("dx.npy", "y.npy"), fileNames(), "nothing else left in the directory");
    }

    @Test
    void aFailureWhileStagingLeavesNothing() throws IOException {
        Path later = dir.resolve("later");
        Files.createDirectory(later);
        OutputFiles outputs = new OutputFiles();
        outputs.declare("--output", dir.resolve("y.npy"));
        outputs.declare("--grad-kernel", later.resolve("dk.npy"));
        outputs.put("--output", first);
        outputs.put("--grad-kernel", second);
        Files.delete(later);

        FileAccessException failure = assertThrows(FileAccessException.class, outputs::writeAll);

        assertTrue(failure.getMessage().startsWith("--grad-kernel "), failure.getMessage());
        assertEquals(List.of(), fileNames(), "y.npy (staged first) was removed too");
    }

    @Test
    void aFailureWhileMovingRemovesTheOutputsAlreadyMoved() throws IOException {
        Path blocked = dir.resolve("dk.npy");
        OutputFiles outputs = new OutputFiles();
        outputs.declare("--output", dir.resolve("y.npy"));
        outputs.declare("--grad-kernel", blocked);
        outputs.put("--output", first);
        outputs.put("--grad-kernel", second);
        // A non-empty directory cannot be replaced by a file: the second move fails after the first succeeded.
        Files.createDirectories(blocked.resolve("inside"));

        FileAccessException failure = assertThrows(FileAccessException.class, outputs::writeAll);

        assertTrue(failure.getMessage().startsWith("--grad-kernel "), failure.getMessage());
        assertEquals(List.of("dk.npy"), fileNames(), "y.npy removed, no temporary left; the directory stays");
        assertTrue(Files.isDirectory(blocked.resolve("inside")));
    }

    @Test
    void refusesTwoOutputsNamingOneFile() {
        OutputFiles outputs = new OutputFiles();
        outputs.declare("--output", dir.resolve("y.npy"));
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                () -> outputs.declare("--grad-input", dir.resolve("sub").resolve("..").resolve("y.npy")));
        assertTrue(refused.getMessage().contains("--grad-input") && refused.getMessage().contains("--output"),
                refused.getMessage());
    }

    @Test
    void everyDeclaredOutputNeedsATensor() {
        OutputFiles outputs = new OutputFiles();
        outputs.declare("--output", dir.resolve("y.npy"));
        assertThrows(IllegalStateException.class, outputs::writeAll);
        assertThrows(IllegalStateException.class, () -> outputs.put("--grad-input", first));
        assertFalse(Files.exists(dir.resolve("y.npy")));
    }

    /** Two outputs naming one file through a link would write it twice: refused as the same path is. */
    @Test
    void refusesAnOutputThatIsALinkToAnother() throws IOException {
        Path link = Files.createSymbolicLink(dir.resolve("link.npy"), Path.of("y.npy"));
        OutputFiles outputs = new OutputFiles();
        outputs.declare("--output", dir.resolve("y.npy"));
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                () -> outputs.declare("--grad-input", link));
        assertEquals("--grad-input " + link + ": the same file as --output; every output needs a file of its own",
                refused.getMessage());
    }

    /**
     * A target that became a FIFO after it was checked is refused when written, not replaced: the rename would
     * turn it into a regular file. Nothing is written, the FIFO stays.
     */
    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void aTargetThatBecameAFifoIsNotReplaced() throws Exception {
        Path target = dir.resolve("dk.npy");
        OutputFiles outputs = new OutputFiles();
        outputs.declare("--output", dir.resolve("y.npy"));
        outputs.declare("--grad-kernel", target);
        outputs.put("--output", first);
        outputs.put("--grad-kernel", second);
        SpecialFiles.fifo(target);

        FileAccessException failure = assertThrows(FileAccessException.class, outputs::writeAll);

        assertEquals("--grad-kernel " + target + ": cannot write it: it is a FIFO (it was not when checked)",
                failure.getMessage());
        assertEquals(SpecialFiles.FIFO, SpecialFiles.type(target));
        assertEquals(List.of("dk.npy"), fileNames(), "y.npy not written, no temporary left");
    }

    /** Outputs get the permissions of any new file (the umask's), not a temporary file's owner-only ones. */
    @Test
    void outputsAreReadableByOthersAsNewFilesAre() throws IOException {
        assumeTrue(dir.getFileSystem().supportedFileAttributeViews().contains("posix"), "POSIX permissions");
        Path plain = Files.createFile(dir.resolve("plain"));
        Set<PosixFilePermission> usual = Files.getPosixFilePermissions(plain);
        Files.delete(plain);
        OutputFiles outputs = new OutputFiles();
        outputs.declare("--output", dir.resolve("y.npy"));
        outputs.put("--output", first);
        outputs.writeAll();
        assertEquals(usual, Files.getPosixFilePermissions(dir.resolve("y.npy")));
    }

    private List<String> fileNames() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
