package org.convcl.cli;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * What writing an output path replaces. An output is written by moving a temporary file onto its target, which
 * replaces whatever is there: right for a regular file, destructive for anything else (the move would turn
 * {@code /dev/full} or a FIFO into a plain file, or a symbolic link into a copy). So, as {@code cp} and
 * {@code numpy.save} do, a symbolic link is followed and its final target is what gets written, and only a
 * regular file or nothing at all may be there.
 */
final class OutputTarget {
    /** As Linux's own limit on a chain of links (past it, {@code open} fails with ELOOP). */
    static final int MAX_LINKS = 40;

    private OutputTarget() {
    }

    /**
     * The absolute path at the end of {@code path}'s chain of symbolic links: {@code path} itself when it is no
     * link, or the file a link names (existing or not: a dangling link's target is created). Not normalised:
     * {@code ..} after a linked directory means what the system says it means.
     *
     * @throws FileSystemException a loop of links, or more than {@link #MAX_LINKS} of them
     */
    static Path resolve(Path path) throws IOException {
        Path current = path.toAbsolutePath();
        for (int hops = 0; Files.isSymbolicLink(current); hops++) {
            if (hops == MAX_LINKS) {
                throw new FileSystemException(path.toString(), null, "too many levels of symbolic links");
            }
            // A relative link is relative to the link's directory; resolveSibling keeps an absolute one as is.
            current = current.resolveSibling(Files.readSymbolicLink(current));
        }
        return current;
    }

    /**
     * Why what is at {@code target} (already {@link #resolve resolved}) may not be replaced, such as
     * {@code "it is a character device"}; null for a regular file or nothing there. A path that cannot be
     * examined (a missing or unreadable directory on the way) is null too: the directory checks and the write
     * itself report that.
     */
    static String whyNotReplaceable(Path target) {
        BasicFileAttributes attributes;
        try {
            attributes = Files.readAttributes(target, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException nothingThere) {
            return null;
        }
        if (attributes.isRegularFile()) {
            return null;
        }
        if (attributes.isDirectory()) {
            return "it is a directory";
        }
        return "it is " + otherKind(target);
    }

    /** The name of a file type other than a regular file or directory, from its mode bits where the JDK shows them. */
    private static String otherKind(Path target) {
        int mode;
        try {
            mode = (Integer) Files.getAttribute(target, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException | ClassCastException e) {
            // Not a POSIX system, or a JDK without the "unix" view: the type has no name here.
            return "not a regular file";
        }
        // The S_IFMT bits of st_mode, which are the same on Linux, macOS and the BSDs.
        return switch (mode & 0170000) {
            case 0020000 -> "a character device";
            case 0060000 -> "a block device";
            case 0010000 -> "a FIFO";
            case 0140000 -> "a socket";
            default -> "not a regular file";
        };
    }
}
