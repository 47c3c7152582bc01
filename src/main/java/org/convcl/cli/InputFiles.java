package org.convcl.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.convcl.Tensor;
import org.convcl.io.Npy;
import org.convcl.io.NpyFormatException;

/**
 * Reads the {@code .npy} files a command is given, sorting failures into the exit-code contract: a file that
 * cannot be read is a {@link FileAccessException} (exit 1), content that is not an acceptable {@code .npy}
 * is an {@link IllegalArgumentException} (exit 2). Both messages start with the option that named the file.
 */
final class InputFiles {
    private InputFiles() {
    }

    static Tensor read(String option, Path path) {
        if (Files.isDirectory(path)) {
            throw new FileAccessException(option + " " + path + ": cannot read it: it is a directory");
        }
        try {
            return Npy.read(path);
        } catch (NpyFormatException badContent) {
            // Its message already starts with the path.
            throw new IllegalArgumentException(option + " " + badContent.getMessage(), badContent);
        } catch (IOException e) {
            throw FileAccessException.reading(option, path, e);
        }
    }

    /** {@link #read}, or null when the optional file was not given. */
    static Tensor readIfGiven(String option, Path path) {
        return path == null ? null : read(option, path);
    }
}
