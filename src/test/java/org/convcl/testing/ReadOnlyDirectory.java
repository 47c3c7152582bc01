package org.convcl.testing;

import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/** An existing directory this process cannot write into, for the tests of outputs that must be refused. */
public final class ReadOnlyDirectory {
    private ReadOnlyDirectory() {
    }

    /**
     * A new directory under {@code parent} without write permission; or, where permissions do not stop this
     * process (root, as in CI's containers), Linux's {@code /proc/self}, which nobody can create files in.
     */
    public static Path under(Path parent) throws IOException {
        Path directory = Files.createDirectory(parent.resolve("read-only"));
        if (parent.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("r-xr-xr-x"));
            if (!Files.isWritable(directory)) {
                return directory;
            }
        }
        Path procSelf = Path.of("/proc/self");
        assumeFalse(!Files.isDirectory(procSelf) || Files.isWritable(procSelf),
                "no directory this process cannot write: permissions do not stop it and there is no /proc/self");
        return procSelf;
    }
}
