package org.convcl.opencl.internal.runtime;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.convcl.internal.Settings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads OpenCL C sources: from the classpath ({@code /kernels/NAME}, packaged from the project's
 * {@code kernels/} folder), or, for kernel development, from the directory named by the system property
 * {@code convcl.kernels.dir} or the environment variable {@code CONVCL_KERNELS_DIR}. An override directory
 * is read on every load, so an edited file is picked up by the next plan that needs it (compiled programs
 * are keyed by the source's hash); a file the directory lacks comes from the classpath.
 *
 * <p>A program may be built from several files, shared code first and the kernel's own file last (for
 * example {@code conv_geometry.cl} then {@code conv_gemm.cl}); the plan that builds it names them in order,
 * and OpenCL compiles them as one text ({@code clCreateProgramWithSource} takes an array of strings). That is
 * how kernels share code without the host assembling source text. Thread-safe.
 */
public final class KernelSources {
    private static final Logger LOG = LoggerFactory.getLogger(KernelSources.class);
    private static final Map<String, Source> PACKAGED = new ConcurrentHashMap<>();

    private KernelSources() {
    }

    /** One kernel source: its file name, text, SHA-256 of the text, and where it came from. */
    public record Source(String name, String text, String sha256, String origin) {
    }

    /**
     * The files one program is built from, in order, as the driver compiles them: one text, the files one
     * after another, its lines numbered across all of them ({@link #describe} maps them back to files).
     * Its hash covers every file's name and text, so editing any of them makes it another program.
     */
    public record ProgramSource(List<Source> files) {
        public ProgramSource {
            files = List.copyOf(files);
            if (files.isEmpty()) {
                throw new IllegalArgumentException("a program needs at least one kernel source file");
            }
            for (Source file : files.subList(0, files.size() - 1)) {
                if (!file.text().endsWith("\n")) {
                    throw new IllegalStateException("kernel source " + file.origin() + " does not end with a line "
                            + "break, so its last line would run into the first line of the file after it");
                }
            }
        }

        /** The texts, in order, for {@code clCreateProgramWithSource}. */
        String[] texts() {
            return files.stream().map(Source::text).toArray(String[]::new);
        }

        /** SHA-256 over every file's name and hash, in order. */
        String sha256() {
            StringBuilder parts = new StringBuilder();
            for (Source file : files) {
                parts.append(file.name()).append(':').append(file.sha256()).append('\n');
            }
            return KernelSources.sha256(parts.toString());
        }

        /** The file names joined by {@code +}: {@code conv_geometry.cl + tf32.cl + conv_gemm.cl}. */
        String name() {
            return String.join(" + ", files.stream().map(Source::name).toList());
        }

        /**
         * For error messages: each file with where it came from and, when there are several, which lines of
         * the compiled text (the numbering a build log uses) are its own.
         */
        String describe() {
            if (files.size() == 1) {
                return files.get(0).name() + " (" + files.get(0).origin() + ")";
            }
            List<String> parts = new ArrayList<>();
            int firstLine = 1;
            for (Source file : files) {
                int lines = (int) file.text().lines().count();
                parts.add(file.name() + " (" + file.origin() + "; build log lines " + firstLine + "-"
                        + (firstLine + lines - 1) + ")");
                firstLine += lines;
            }
            return String.join(" + ", parts);
        }
    }

    /** The files named {@code fileNames}, in order, each as {@link #load(String)} finds it. */
    public static ProgramSource load(List<String> fileNames) {
        return new ProgramSource(fileNames.stream().map(KernelSources::load).toList());
    }

    /** The source named {@code fileName} ({@code conv_gemm.cl}), override directory first. */
    public static Source load(String fileName) {
        if (fileName.contains("/") || fileName.contains("\\") || !fileName.endsWith(".cl")) {
            throw new IllegalArgumentException("kernel source: '" + fileName + "' is not a plain *.cl file name");
        }
        Optional<Path> override = Settings.KERNELS_DIR.value();
        if (override.isPresent()) {
            Path directory = override.get();
            Path file = directory.resolve(fileName);
            if (Files.isRegularFile(file)) {
                try {
                    String text = Files.readString(file, StandardCharsets.UTF_8);
                    return new Source(fileName, text, sha256(text), file.toString());
                } catch (IOException e) {
                    throw new UncheckedIOException("kernel source " + file + " could not be read", e);
                }
            }
            LOG.debug("kernel override directory {} has no {}; using the packaged source", directory, fileName);
        }
        return PACKAGED.computeIfAbsent(fileName, KernelSources::loadPackaged);
    }

    private static Source loadPackaged(String fileName) {
        String resource = "/kernels/" + fileName;
        try (InputStream in = KernelSources.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("kernel source " + resource + " is missing from the classpath; the "
                        + "build packages kernels/*.cl into the jar");
            }
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return new Source(fileName, text, sha256(text), "classpath:" + resource);
        } catch (IOException e) {
            throw new UncheckedIOException("kernel source " + resource + " could not be read", e);
        }
    }

    public static String sha256(String text) {
        return sha256(text.getBytes(StandardCharsets.UTF_8));
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
