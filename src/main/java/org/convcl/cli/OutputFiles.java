package org.convcl.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Checks that an output file could be written before the work that produces it starts, with the same
 * messages as {@code conv}'s own check (exit 1: a file that cannot be written).
 */
final class OutputFiles {
    private OutputFiles() {
    }

    static void checkWritable(String option, Path output) {
        Path absolute = output.toAbsolutePath();
        if (Files.isDirectory(absolute)) {
            throw new FileAccessException(option + " " + output + ": cannot write it: it is a directory");
        }
        Path parent = absolute.getParent();
        if (parent == null || !Files.isDirectory(parent)) {
            throw new FileAccessException(option + " " + output + ": cannot write it: directory " + parent
                    + " does not exist");
        }
        if (!Files.isWritable(parent)) {
            throw new FileAccessException(option + " " + output + ": cannot write it: directory " + parent
                    + " is not writable");
        }
    }
}
