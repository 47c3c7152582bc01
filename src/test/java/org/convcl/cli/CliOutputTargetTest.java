package org.convcl.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.convcl.testing.LayerFiles;
import org.convcl.testing.SpecialFiles;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What an output path names decides what is written: a new path or an existing regular file is written (a
 * replaced file keeps its mode and owner); a symbolic link is followed, its target written and the link left a
 * link; a device, FIFO, socket or directory, and a file this user may not write, are refused before any work
 * (exit 2, one line, nothing on disk changed), on every command that writes a file.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CliOutputTargetTest {
    private static final String RULE = "an output must be a regular file or a new path";

    @TempDir
    Path dir;

    private LayerFiles files;

    @BeforeEach
    void inputs() throws IOException {
        files = LayerFiles.write(dir, 5);
    }

    private List<String> conv(Path output, String... extra) {
        List<String> args = new ArrayList<>(List.of("conv", "--input", files.x().toString(), "--kernel",
                files.kernel().toString(), "--bias", files.bias().toString(), "--backend", "cpu", "--output",
                output.toString()));
        args.addAll(Arrays.asList(extra));
        return args;
    }

    /** Runs {@code args}, expects exit 2 and exactly {@code expected} as the line, and no change under dir. */
    private void assertRefused(List<String> args, String expected) throws IOException {
        Map<String, String> before = diskState();
        String line = CliRun.of(args).assertFailure(Main.EXIT_INVALID, null);
        assertEquals(expected, line);
        assertEquals(before, diskState(), "nothing on disk changed (no output, no temporary, no file replaced)");
    }

    /** The bytes {@code conv} writes for the test's operands, through a plain new path: the reference. */
    private byte[] expectedOutput() throws IOException {
        Path plain = dir.resolve("reference").resolve("plain.npy");
        Files.createDirectories(plain.getParent());
        CliRun.of(conv(plain)).assertSuccess();
        byte[] bytes = Files.readAllBytes(plain);
        Files.delete(plain);
        Files.delete(plain.getParent());
        return bytes;
    }

    @Test
    void characterDeviceIsRefusedAndLeftAsItWas() throws Exception {
        Path device = SpecialFiles.characterDevice(dir.resolve("full"));
        Object numbers = Files.getAttribute(device, "unix:rdev");
        assertRefused(conv(device), "convcl: --output " + device + ": it is a character device; " + RULE);
        assertEquals(SpecialFiles.CHARACTER_DEVICE, SpecialFiles.type(device));
        assertEquals(numbers, Files.getAttribute(device, "unix:rdev"));
    }

    /** Every command that writes a file refuses a FIFO before its work (the bench before its run). */
    @ParameterizedTest
    @ValueSource(strings = {"conv", "conv-transpose", "--grad-kernel", "demo", "bench"})
    void fifoIsRefusedByEveryCommand(String command) throws Exception {
        Path fifo = SpecialFiles.fifo(dir.resolve("pipe"));
        String option = "--output";
        List<String> args;
        switch (command) {
            case "conv" -> args = conv(fifo);
            case "conv-transpose" -> {
                args = conv(fifo);
                args.set(0, "conv-transpose");
            }
            case "--grad-kernel" -> {
                option = command;
                args = conv(dir.resolve("y.npy"), "--cotangent", files.cotangent().toString(), "--grad-input",
                        dir.resolve("dx.npy").toString(), "--grad-kernel", fifo.toString());
            }
            case "demo" -> args = List.of("demo", "--backend", "cpu", "--output", fifo.toString());
            case "bench" -> {
                option = "--json";
                args = List.of("bench", "--backend", "cpu", "--json", fifo.toString());
            }
            default -> throw new AssertionError(command);
        }
        assertRefused(args, "convcl: " + option + " " + fifo + ": it is a FIFO; " + RULE);
        assertEquals(SpecialFiles.FIFO, SpecialFiles.type(fifo));
    }

    @Test
    void socketIsRefused() throws IOException {
        Path socket = dir.resolve("sock");
        try (ServerSocketChannel bound = SpecialFiles.socket(socket)) {
            assertRefused(conv(socket), "convcl: --output " + socket + ": it is a socket; " + RULE);
        }
        assertEquals(SpecialFiles.SOCKET, SpecialFiles.type(socket));
    }

    @Test
    void directoryAndALinkToOneAreRefused() throws IOException {
        Path directory = Files.createDirectory(dir.resolve("out"));
        assertRefused(conv(directory), "convcl: --output " + directory + ": it is a directory; " + RULE);
        Path link = Files.createSymbolicLink(dir.resolve("out-link.npy"), directory.getFileName());
        assertRefused(conv(link), "convcl: --output " + link + ": it is a directory; " + RULE);
    }

    @Test
    void linkToADeviceIsRefused() throws Exception {
        Path fifo = SpecialFiles.fifo(dir.resolve("pipe"));
        Path link = Files.createSymbolicLink(dir.resolve("y.npy"), fifo.getFileName());
        assertRefused(conv(link), "convcl: --output " + link + ": it is a FIFO; " + RULE);
        assertTrue(Files.isSymbolicLink(link));
    }

    /** {@code links/y.npy -> ../out/target.npy}: the target gets the output, the link stays the same link. */
    @Test
    void linkToAFileInAnotherDirectoryWritesTheTarget() throws IOException {
        byte[] expected = expectedOutput();
        Path out = Files.createDirectory(dir.resolve("out"));
        Path target = Files.writeString(out.resolve("target.npy"), "old content");
        Path links = Files.createDirectory(dir.resolve("links"));
        Path link = Files.createSymbolicLink(links.resolve("y.npy"), Path.of("..", "out", "target.npy"));

        CliRun.of(conv(link)).assertSuccess();

        assertTrue(Files.isSymbolicLink(link), "the link is still a link");
        assertEquals(Path.of("..", "out", "target.npy"), Files.readSymbolicLink(link));
        assertArrayEquals(expected, Files.readAllBytes(target), "the target holds the output");
        assertEquals(List.of("y.npy"), names(links), "nothing else beside the link");
        assertEquals(List.of("target.npy"), names(out), "no temporary left beside the target");
    }

    @Test
    void chainOfLinksWritesItsLastTarget() throws IOException {
        byte[] expected = expectedOutput();
        Path out = Files.createDirectory(dir.resolve("out"));
        Path target = Files.writeString(out.resolve("target.npy"), "old content");
        Path middle = Files.createSymbolicLink(dir.resolve("middle.npy"), target);
        Path first = Files.createSymbolicLink(dir.resolve("first.npy"), middle.getFileName());

        CliRun.of(conv(first)).assertSuccess();

        assertEquals(middle.getFileName(), Files.readSymbolicLink(first));
        assertEquals(target, Files.readSymbolicLink(middle));
        assertArrayEquals(expected, Files.readAllBytes(target));
    }

    @Test
    void danglingLinkCreatesItsTarget() throws IOException {
        byte[] expected = expectedOutput();
        Path out = Files.createDirectory(dir.resolve("out"));
        Path link = Files.createSymbolicLink(dir.resolve("y.npy"), Path.of("out", "new.npy"));

        CliRun.of(conv(link)).assertSuccess();

        assertTrue(Files.isSymbolicLink(link));
        assertArrayEquals(expected, Files.readAllBytes(out.resolve("new.npy")));
        assertEquals(List.of("new.npy"), names(out));
    }

    @Test
    void danglingLinkIntoAMissingDirectoryIsRefused() throws IOException {
        Path link = Files.createSymbolicLink(dir.resolve("y.npy"), Path.of("nowhere", "new.npy"));
        assertRefused(conv(link), "convcl: --output " + link + ": directory " + dir.resolve("nowhere")
                + " does not exist; an output's directory must exist (convcl creates no directories)");
    }

    @Test
    void loopOfLinksIsRefused() throws IOException {
        Path first = Files.createSymbolicLink(dir.resolve("loop-a.npy"), Path.of("loop-b.npy"));
        Files.createSymbolicLink(dir.resolve("loop-b.npy"), Path.of("loop-a.npy"));
        assertRefused(conv(first), "convcl: --output " + first + ": too many levels of symbolic links; " + RULE);
    }

    /** Replacing needs only the directory's permission; a file the user may not write is refused anyway. */
    @Test
    void fileThisUserCannotWriteIsRefusedAndLeftAsItWas() throws Exception {
        Path file = Files.writeString(dir.resolve("y.npy"), "old content");
        try (SpecialFiles.Undo unwritable = SpecialFiles.unwritable(file)) {
            assertRefused(conv(file), "convcl: --output " + file
                    + ": permission denied; an existing output must be writable by this user");
            Path link = Files.createSymbolicLink(dir.resolve("link.npy"), file.getFileName());
            assertRefused(conv(link), "convcl: --output " + link
                    + ": permission denied; an existing output must be writable by this user");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"r--r--r--", "rw-r-----", "rw-------", "rw-rw-rw-"})
    void replacedFileKeepsItsMode(String mode) throws IOException {
        byte[] expected = expectedOutput();
        Path file = Files.writeString(dir.resolve("y.npy"), "old content");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(mode));
        assumeTrue(Files.isWritable(file), "this user may not write a " + mode + " file (only root may)");

        CliRun.of(conv(file)).assertSuccess();

        assertArrayEquals(expected, Files.readAllBytes(file));
        assertEquals(mode, PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    }

    /** As root (the default in containers), another user's file stays theirs, and read-only. */
    @Test
    void replacedFileOfAnotherUserKeepsItsOwnerAsRoot() throws IOException {
        byte[] expected = expectedOutput();
        Path file = Files.writeString(dir.resolve("y.npy"), "old content");
        PosixFileAttributeView view = Files.getFileAttributeView(file, PosixFileAttributeView.class);
        UserPrincipal nobody;
        try {
            nobody = file.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody");
            view.setOwner(nobody);
        } catch (IOException notRootOrNoSuchUser) {
            assumeTrue(false, "cannot give a file to user nobody here: " + notRootOrNoSuchUser);
            return;
        }
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r--r--r--"));

        CliRun.of(conv(file)).assertSuccess();

        assertArrayEquals(expected, Files.readAllBytes(file));
        assertEquals(nobody, Files.getOwner(file));
        assertEquals("r--r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    }

    @Test
    void demoWritesThroughALink() throws IOException {
        Path out = Files.createDirectory(dir.resolve("out"));
        Path link = Files.createSymbolicLink(dir.resolve("knobs.png"), Path.of("out", "picture.png"));

        CliRun.of("demo", "--backend", "cpu", "--output", link.toString()).assertSuccess();

        assertTrue(Files.isSymbolicLink(link));
        assertTrue(ImageIO.read(out.resolve("picture.png").toFile()).getWidth() > 0, "a PNG in the target");
        assertEquals(List.of("picture.png"), names(out));
    }

    private static List<String> names(Path directory) throws IOException {
        try (Stream<Path> entries = Files.list(directory)) {
            return entries.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /**
     * Every entry under dir with its type and mode, owner, link text, and a regular file's bytes: equal before
     * and after means nothing was created, removed or changed. Never opens anything but a regular file.
     */
    private Map<String, String> diskState() throws IOException {
        Map<String, String> state = new TreeMap<>();
        try (Stream<Path> entries = Files.walk(dir)) {
            for (Path entry : entries.toList()) {
                StringBuilder description = new StringBuilder();
                description.append(Integer.toOctalString((Integer) Files.getAttribute(entry, "unix:mode",
                        LinkOption.NOFOLLOW_LINKS)));
                description.append(" uid ").append(Files.getAttribute(entry, "unix:uid", LinkOption.NOFOLLOW_LINKS));
                if (Files.isSymbolicLink(entry)) {
                    description.append(" -> ").append(Files.readSymbolicLink(entry));
                } else if (Files.isRegularFile(entry, LinkOption.NOFOLLOW_LINKS)) {
                    description.append(' ').append(Arrays.hashCode(Files.readAllBytes(entry)))
                            .append(' ').append(Files.size(entry));
                }
                state.put(dir.relativize(entry).toString(), description.toString());
            }
        }
        return state;
    }
}
