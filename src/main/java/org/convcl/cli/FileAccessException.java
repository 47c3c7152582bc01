package org.convcl.cli;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;

/**
 * Reading or writing a file failed once begun (an I/O error, a full disk, a file removed meanwhile): exit code 1.
 * A path that breaks the rules checked beforehand ({@link PathChecks}) and bad content are exit 2 instead.
 */
final class FileAccessException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    FileAccessException(String message, Throwable cause) {
        super(message, cause);
    }

    /** {@code --input x.npy: cannot read it: no such file}. */
    static FileAccessException reading(String option, Path path, IOException cause) {
        return new FileAccessException(option + " " + path + ": cannot read it: " + describe(cause), cause);
    }

    static FileAccessException writing(String option, Path path, IOException cause) {
        return new FileAccessException(option + " " + path + ": cannot write it: " + describe(cause), cause);
    }

    /** A short reason; the JDK's own messages for these are just the path. */
    static String describe(IOException e) {
        if (e instanceof NoSuchFileException) {
            return "no such file or directory";
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof NotDirectoryException) {
            return "a parent is not a directory";
        }
        if (e instanceof FileSystemException fs && fs.getReason() != null) {
            return fs.getReason();
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
}
