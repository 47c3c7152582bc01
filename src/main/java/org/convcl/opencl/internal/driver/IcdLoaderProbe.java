package org.convcl.opencl.internal.driver;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Predicts, on Linux, whether JOCL will find the OpenCL ICD loader, by looking where the dynamic linker
 * looks for {@code libOpenCL.so}: {@code LD_LIBRARY_PATH}, the directories of {@code /etc/ld.so.conf}
 * (with its includes), the trusted system directories and the JDK's own. JOCL 2.0.5 asks for exactly
 * {@code libOpenCL.so}, and when that fails it prints a line on standard output from native code, which a
 * library must not do; predicting the failure lets discovery report it cleanly instead. Other systems,
 * and any doubt, defer to JOCL.
 */
final class IcdLoaderProbe {
    static final String LOADER = "libOpenCL.so";

    private IcdLoaderProbe() {
    }

    /** Why loading will fail, or empty when it may succeed (or the probe cannot tell). */
    static Optional<String> predictedFailure() {
        if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
            return Optional.empty();
        }
        List<Path> directories = searchDirectories();
        Path versioned = null;
        for (Path directory : directories) {
            if (Files.exists(directory.resolve(LOADER))) {
                return Optional.empty();
            }
            if (versioned == null && Files.exists(directory.resolve(LOADER + ".1"))) {
                versioned = directory.resolve(LOADER + ".1");
            }
        }
        if (versioned != null) {
            return Optional.of("the OpenCL ICD loader is installed only as " + versioned + " but JOCL loads it as "
                    + LOADER + ": install the development name (Debian/Ubuntu: ocl-icd-opencl-dev), or link it in a "
                    + "folder of your own and add that folder to LD_LIBRARY_PATH before starting java (e.g. ln -s "
                    + versioned + " ~/.cache/convcl/opencl-loader/" + LOADER + "); scripts/convcl does this itself");
        }
        return Optional.of("no OpenCL ICD loader (" + LOADER + ") is installed: install one and an OpenCL driver "
                + "(Debian/Ubuntu: ocl-icd-opencl-dev plus pocl-opencl-icd for CPUs, or the GPU vendor's driver)");
    }

    /** Where the dynamic linker searches, in its order (duplicates removed). */
    static List<Path> searchDirectories() {
        Set<Path> directories = new LinkedHashSet<>();
        addPathList(directories, System.getenv("LD_LIBRARY_PATH"));
        readLinkerConfig(directories, Path.of("/etc/ld.so.conf"), 0);
        for (String trusted : new String[] {"/lib64", "/usr/lib64", "/lib", "/usr/lib"}) {
            directories.add(Path.of(trusted));
        }
        String javaHome = System.getProperty("java.home");
        if (javaHome != null) {
            directories.add(Path.of(javaHome, "lib"));
            directories.add(Path.of(javaHome, "bin"));
        }
        return new ArrayList<>(directories);
    }

    private static void addPathList(Set<Path> directories, String list) {
        if (list == null || list.isBlank()) {
            return;
        }
        for (String entry : list.split(":")) {
            addDirectory(directories, entry);
        }
    }

    private static void readLinkerConfig(Set<Path> directories, Path file, int depth) {
        if (depth > 4 || !Files.isRegularFile(file)) {
            return;
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (IOException | RuntimeException e) {
            return;
        }
        for (String raw : lines) {
            int comment = raw.indexOf('#');
            String line = (comment >= 0 ? raw.substring(0, comment) : raw).trim();
            if (line.isEmpty() || line.startsWith("hwcap")) {
                continue;
            }
            if (line.startsWith("include")) {
                for (String pattern : line.substring("include".length()).trim().split("\\s+")) {
                    includeGlob(directories, file.getParent(), pattern, depth);
                }
            } else {
                for (String entry : line.split("[\\s:,=]+")) {
                    addDirectory(directories, entry);
                }
            }
        }
    }

    private static void includeGlob(Set<Path> directories, Path base, String pattern, int depth) {
        if (pattern.isEmpty()) {
            return;
        }
        try {
            Path resolved = base == null ? Path.of(pattern) : base.resolve(pattern);
            Path folder = resolved.getParent();
            if (folder == null || !Files.isDirectory(folder)) {
                return;
            }
            List<Path> matches = new ArrayList<>();
            try (DirectoryStream<Path> stream = Files.newDirectoryStream(folder, resolved.getFileName().toString())) {
                stream.forEach(matches::add);
            }
            matches.sort(null);
            for (Path match : matches) {
                readLinkerConfig(directories, match, depth + 1);
            }
        } catch (IOException | RuntimeException e) {
            // An unreadable include only narrows the search.
        }
    }

    private static void addDirectory(Set<Path> directories, String entry) {
        if (entry == null || entry.isBlank()) {
            return;
        }
        try {
            directories.add(Path.of(entry.trim()));
        } catch (InvalidPathException e) {
            // Not a path: ignore it, as the linker would.
        }
    }
}
