package org.convcl.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Files that are not regular files, made in a test's own folder (never a system path), and files this process
 * cannot write, for the tests of outputs that must be refused. Where the system cannot make one (no
 * {@code mknod} without root, no {@code chattr} on the file system), the test is skipped by assumption.
 */
public final class SpecialFiles {
    /** The S_IFMT bits of st_mode and the types the tests name. */
    public static final int TYPE_MASK = 0170000;
    public static final int CHARACTER_DEVICE = 0020000;
    public static final int FIFO = 0010000;
    public static final int SOCKET = 0140000;

    private SpecialFiles() {
    }

    /** A FIFO at {@code path} ({@code mkfifo}). */
    public static Path fifo(Path path) throws IOException, InterruptedException {
        assumeTrue(run("mkfifo", path.toString()), "mkfifo is not available");
        return path;
    }

    /**
     * A character device at {@code path} with the numbers of {@code /dev/full} (1, 7), which refuses writes:
     * even a write that should not happen destroys nothing. Needs root ({@code mknod}).
     */
    public static Path characterDevice(Path path) throws IOException, InterruptedException {
        assumeTrue(run("mknod", path.toString(), "c", "1", "7"), "mknod is refused here (it needs root)");
        return path;
    }

    /** A Unix domain socket bound at {@code path}; closing the channel leaves the socket file. */
    public static ServerSocketChannel socket(Path path) throws IOException {
        ServerSocketChannel channel = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        channel.bind(UnixDomainSocketAddress.of(path));
        return channel;
    }

    /** The file type bits of what is at {@code path}, not following a link. */
    public static int type(Path path) throws IOException {
        return (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS) & TYPE_MASK;
    }

    /**
     * Makes the existing file {@code file} one this process cannot write: without write permission for a
     * user other than root; for root, whom permissions do not stop, immutable ({@code chattr +i}, undone by
     * closing the result so that the test's folder can be removed).
     */
    public static Undo unwritable(Path file) throws IOException, InterruptedException {
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r--r--r--"));
        if (!Files.isWritable(file)) {
            return () -> { };
        }
        assumeTrue(run("chattr", "+i", file.toString()), "chattr +i is refused here, and permissions do not stop "
                + "this process (root): no file it cannot write");
        Undo undo = () -> run("chattr", "-i", file.toString());
        if (Files.isWritable(file)) {
            undo.close();
            assumeTrue(false, "an immutable file is still writable here");
        }
        return undo;
    }

    /** Undoes what made a file unwritable. */
    @FunctionalInterface
    public interface Undo extends AutoCloseable {
        @Override
        void close() throws IOException, InterruptedException;
    }

    private static boolean run(String... command) throws IOException, InterruptedException {
        Process process;
        try {
            process = new ProcessBuilder(List.of(command)).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        } catch (IOException notInstalled) {
            return false;
        }
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            return false;
        }
        return process.exitValue() == 0;
    }
}
