package org.convcl.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.convcl.Tensor;
import org.convcl.io.Npy;
import org.convcl.io.NpyFormatException;

/**
 * The {@code .npy} files one command run reads, read through the exit-code contract: a path that breaks
 * {@link PathChecks}' rules (missing, a directory, unreadable) and content that is not an acceptable {@code .npy}
 * are {@link IllegalArgumentException}s (exit 2); a read that fails once begun is a {@link FileAccessException}
 * (exit 1). Every message starts with the option that named the file. The instance remembers which files it read,
 * so that {@link OutputFiles} can refuse an output that would overwrite one of them.
 *
 * <p>Not thread-safe; one instance per command run.
 */
final class InputFiles {
    /** Option name to path, in the order the files were read. */
    private final Map<String, Path> read = new LinkedHashMap<>();

    Tensor read(String option, Path path) {
        PathChecks.checkInput(option, path);
        read.put(option, path);
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
    Tensor readIfGiven(String option, Path path) {
        return path == null ? null : read(option, path);
    }

    /** The files read so far, option name to path. */
    Map<String, Path> paths() {
        return Collections.unmodifiableMap(read);
    }
}
