package org.convcl.opencl.internal.driver;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;

/** Whether a cache directory can be used, and if not, why, in words a message can carry. */
public final class CacheDirectories {
    private CacheDirectories() {
    }

    /**
     * Why {@code directory} cannot hold a cache, or empty when it can: it is made when missing (as its user would
     * make it), then must be writable. Only a directory that is about to be used anyway is passed here.
     */
    public static Optional<String> unusable(Path directory) {
        try {
            Files.createDirectories(directory);
        } catch (IOException | SecurityException e) {
            return Optional.of(reason(e));
        }
        if (!Files.isWritable(directory)) {
            return Optional.of(directory + " is not writable");
        }
        return Optional.empty();
    }

    /** {@code cannot create /x/y: No such file or directory}: the path that failed and the system's reason. */
    static String reason(Exception e) {
        if (e instanceof FileAlreadyExistsException exists) {
            return exists.getFile() + " exists and is not a directory";
        }
        if (e instanceof FileSystemException fs) {
            String cause = fs.getReason() != null ? fs.getReason()
                    : fs instanceof NoSuchFileException ? "No such file or directory"
                    : fs instanceof AccessDeniedException ? "Permission denied"
                    : fs.getClass().getSimpleName();
            return "cannot create " + fs.getFile() + ": " + cause;
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
}
