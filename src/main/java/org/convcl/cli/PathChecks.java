package org.convcl.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Map;

/**
 * The rules for the files named on the command line, checked before any work. The paths are the user's input as
 * much as the options are, so breaking a rule is exit 2 (an {@link IllegalArgumentException}), one line naming
 * the option, the path and the rule, and nothing is written:
 * <ul>
 *   <li>an input is an existing file (not a directory) that this user can read;</li>
 *   <li>an output is a new path or an existing regular file that this user can write, after following its
 *       symbolic links (the link's target is written; a device, FIFO, socket or directory is refused, since
 *       writing replaces what is there), and its directory exists and can be written (the output is written
 *       there as a temporary file, then moved into place);</li>
 *   <li>an output is not one of the command's inputs, compared as files after resolving links, so that a run
 *       never replaces what it reads.</li>
 * </ul>
 * What can still fail once reading or writing has begun (an I/O error, a full disk, a file removed meanwhile) is
 * a {@link FileAccessException}, exit 1.
 */
final class PathChecks {
    private static final String REGULAR_OR_NEW = "an output must be a regular file or a new path";

    private PathChecks() {
    }

    /** Refuses an input that is missing, a directory or unreadable. */
    static void checkInput(String option, Path path) {
        if (Files.isDirectory(path)) {
            throw refused(option, path, "it is a directory", "an input must be a file");
        }
        if (!Files.exists(path)) {
            // Also a link whose target is missing: there is nothing to read either way.
            throw refused(option, path, "no such file", "an input must be an existing file");
        }
        if (!Files.isReadable(path)) {
            throw refused(option, path, "permission denied", "an input must be readable by this user");
        }
    }

    /**
     * Refuses an output that is neither a regular file nor a new path (after following its links), whose
     * directory is missing or cannot be written, or that exists and this user may not write.
     */
    static void checkOutput(String option, Path path) {
        Path target;
        try {
            target = OutputTarget.resolve(path);
        } catch (IOException e) {
            throw refused(option, path, FileAccessException.describe(e), REGULAR_OR_NEW);
        }
        String notReplaceable = OutputTarget.whyNotReplaceable(target);
        if (notReplaceable != null) {
            throw refused(option, path, notReplaceable, REGULAR_OR_NEW);
        }
        Path parent = target.getParent();
        // Named as the user wrote it ("out" for out/y.npy; a bare file name's is the working directory), or,
        // for a link, the directory its target is in.
        Path shown = !target.equals(path.toAbsolutePath()) ? parent.normalize()
                : path.getParent() != null ? path.getParent() : parent;
        if (parent == null || !Files.exists(parent)) {
            throw refused(option, path, "directory " + shown + " does not exist",
                    "an output's directory must exist (convcl creates no directories)");
        }
        if (!Files.isDirectory(parent)) {
            throw refused(option, path, shown + " is not a directory", "an output's directory must be a directory");
        }
        if (!Files.isWritable(parent)) {
            throw refused(option, path, "directory " + shown + " is not writable",
                    "an output's directory must be writable (the output is written there, then moved into place)");
        }
        // The rename would replace a file this user cannot write (it needs only the directory's permission):
        // refused as cp and editors refuse it. Root may write any file, as with cp.
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS) && !Files.isWritable(target)) {
            throw refused(option, path, "permission denied", "an existing output must be writable by this user");
        }
    }

    /**
     * Refuses an output that is the same file as one of {@code inputs} (option to path), after resolving links:
     * {@code x.npy} given as both, or an output that is a link to an input or a hard link of it.
     */
    static void checkNotAnInput(String option, Path output, Map<String, Path> inputs) {
        if (!Files.exists(output)) {
            // A file that does not exist yet (or a dangling link) cannot be one that was read.
            return;
        }
        for (Map.Entry<String, Path> input : inputs.entrySet()) {
            if (sameFile(output, input.getValue())) {
                throw refused(option, output, "the same file as " + input.getKey() + " " + input.getValue(),
                        "an output must not overwrite an input");
            }
        }
    }

    private static boolean sameFile(Path a, Path b) {
        try {
            return Files.isSameFile(a, b);
        } catch (IOException e) {
            // One of them cannot be examined (removed meanwhile): then it is not read as the other is written.
            return false;
        }
    }

    private static IllegalArgumentException refused(String option, Path path, String problem, String rule) {
        return new IllegalArgumentException(option + " " + path + ": " + problem + "; " + rule);
    }
}
