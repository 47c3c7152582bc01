package org.convcl.cli;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One output file, written whole into a temporary file beside its {@link OutputTarget target} (the end of the
 * output path's links), then moved onto the target in one rename: never a partial file, and a symbolic link
 * stays a link whose target has the new content.
 *
 * <p>A file that is replaced keeps its permissions, and its owner and group where this user may set them (root
 * may; another user's chown is refused, and the file becomes that user's, as a file the user writes anew does).
 * A target that has become something other than a regular file since {@link PathChecks} looked is refused
 * here too, so that a rename never replaces a device, FIFO or socket.
 */
final class StagedOutput {
    /** Writes the content into the (empty, new) temporary file. */
    @FunctionalInterface
    interface Content {
        void writeTo(Path temporary) throws IOException;
    }

    private final String option;
    private final Path path;
    private final Path target;
    private final Path temporary;

    private StagedOutput(String option, Path path, Path target, Path temporary) {
        this.option = option;
        this.path = path;
        this.target = target;
        this.temporary = temporary;
    }

    /** Writes and moves into place one output: {@link #stage} then {@link #commit}. */
    static void write(String option, Path path, Content content) {
        stage(option, path, content).commit();
    }

    /**
     * Writes {@code content} into a new temporary file beside {@code path}'s target, with the target's
     * permissions (and owner) when it exists. On failure nothing is left behind.
     *
     * @throws FileAccessException writing failed, or the target is no longer a regular file or new
     */
    static StagedOutput stage(String option, Path path, Content content) {
        Path target;
        try {
            target = OutputTarget.resolve(path);
        } catch (IOException e) {
            throw FileAccessException.writing(option, path, e);
        }
        // A directory is left to the rename, which refuses to put a file in its place; a device, FIFO or socket
        // is not, since a rename would replace it.
        String notReplaceable = Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS) ? null
                : OutputTarget.whyNotReplaceable(target);
        if (notReplaceable != null) {
            throw new FileAccessException(option + " " + path + ": cannot write it: " + notReplaceable
                    + " (it was not when checked)", null);
        }
        Path temporary;
        try {
            temporary = createTemporary(target);
        } catch (IOException e) {
            throw FileAccessException.writing(option, path, e);
        }
        StagedOutput staged = new StagedOutput(option, path, target, temporary);
        try {
            content.writeTo(temporary);
            keepAttributesOf(target, temporary);
        } catch (IOException e) {
            FileAccessException failure = FileAccessException.writing(option, path, e);
            staged.discard(failure);
            throw failure;
        }
        return staged;
    }

    /** Where the content goes: the output path, or the file at the end of its links. */
    Path target() {
        return target;
    }

    /**
     * Moves the temporary file onto the target, atomically.
     *
     * @throws FileAccessException the move failed; the temporary file is removed
     */
    void commit() {
        try {
            Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            FileAccessException failure = FileAccessException.writing(option, path, e);
            discard(failure);
            throw failure;
        }
    }

    /** Removes the temporary file (after another failure, noted on {@code failure} if it cannot be). */
    void discard(RuntimeException failure) {
        deleteQuietly(List.of(temporary), failure);
    }

    /** Best-effort cleanup after a failure; anything that cannot be removed is noted on that failure. */
    static void deleteQuietly(List<Path> paths, RuntimeException failure) {
        for (Path each : paths) {
            try {
                Files.deleteIfExists(each);
            } catch (IOException e) {
                failure.addSuppressed(e);
            }
        }
    }

    /**
     * A new empty file {@code .<name>.<random>.tmp} beside {@code target}. Made with {@link Files#createFile}
     * rather than {@link Files#createTempFile} so that a new output gets the usual permissions (the umask's)
     * instead of owner-only ones.
     */
    private static Path createTemporary(Path target) throws IOException {
        for (int attempt = 0; ; attempt++) {
            String name = "." + target.getFileName() + "." + Long.toHexString(ThreadLocalRandom.current().nextLong())
                    + ".tmp";
            try {
                return Files.createFile(target.resolveSibling(name));
            } catch (FileAlreadyExistsException taken) {
                if (attempt >= 100) {
                    throw taken;
                }
            }
        }
    }

    /**
     * Gives {@code temporary} the owner, group and permissions of the regular file at {@code target}, so that
     * replacing a file changes its content only (a 0444 file stays 0444). Nothing to do for a new output or on
     * a file system without POSIX attributes.
     */
    private static void keepAttributesOf(Path target, Path temporary) throws IOException {
        PosixFileAttributes existing;
        try {
            existing = Files.readAttributes(target, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException | UnsupportedOperationException newOrNotPosix) {
            return;
        }
        if (!existing.isRegularFile()) {
            return;
        }
        PosixFileAttributeView view = Files.getFileAttributeView(temporary, PosixFileAttributeView.class,
                LinkOption.NOFOLLOW_LINKS);
        PosixFileAttributes staged = view.readAttributes();
        // Owner and group before the permissions: a chown may clear mode bits that are set afterwards.
        if (!existing.owner().equals(staged.owner())) {
            try {
                view.setOwner(existing.owner());
            } catch (FileSystemException onlyRootMay) {
                // The file becomes this user's, as one written anew would; its content is still what was asked.
            }
        }
        if (!existing.group().equals(staged.group())) {
            try {
                view.setGroup(existing.group());
            } catch (FileSystemException notAMember) {
                // As above: the user's own group instead.
            }
        }
        view.setPermissions(existing.permissions());
    }
}
