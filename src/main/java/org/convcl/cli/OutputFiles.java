package org.convcl.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.convcl.Tensor;
import org.convcl.io.Npy;

/**
 * The {@code .npy} files one command run writes (Y, and dX, dK, dB when gradients are asked for), written
 * together at the end: all of them or none.
 *
 * <p>Each output is {@link #declare declared} before any computation, so that one that breaks
 * {@link PathChecks}' rules (a directory, a missing or read-only directory, one of the inputs) or names the same
 * file as another output is refused (exit 2) before any work. Once every tensor is
 * computed and {@link #put}, {@link #writeAll} works in two phases: it first writes every tensor into a
 * temporary file beside its target, then moves each temporary onto its target, atomically. A failure in the
 * first phase (disk full, a directory that vanished) leaves nothing behind and every target as it was. A
 * failure in the second, which is a rename within one directory and so rare, removes the outputs this run
 * had already moved into place, so that no partial set of results is left.
 *
 * <p>Not thread-safe; one instance per command run.
 */
final class OutputFiles {
    /** Option name to target path, in the order the outputs were declared (and are written). */
    private final Map<String, Path> targets = new LinkedHashMap<>();
    private final Map<String, Tensor> contents = new HashMap<>();
    /** The files the run read, option name to path: no output may be one of them. */
    private final Map<String, Path> inputs;

    /** Outputs of a run that read no file. */
    OutputFiles() {
        this(Map.of());
    }

    /** Outputs of a run that read {@code inputs} (option name to path), which no output may overwrite. */
    OutputFiles(Map<String, Path> inputs) {
        this.inputs = Map.copyOf(inputs);
    }

    /**
     * Adds an output named by {@code option}. Refuses (exit 2) a path another output already names, one of the
     * inputs, and a path that is a directory or whose directory is missing or not writable.
     */
    void declare(String option, Path path) {
        Path normalized = path.toAbsolutePath().normalize();
        targets.forEach((otherOption, otherPath) -> {
            if (otherPath.toAbsolutePath().normalize().equals(normalized)) {
                throw new IllegalArgumentException(option + " " + path + ": the same file as " + otherOption
                        + "; every output needs a file of its own");
            }
        });
        PathChecks.checkOutput(option, path);
        PathChecks.checkNotAnInput(option, path, inputs);
        targets.put(option, path);
    }

    /** The tensor to write for a declared output. */
    void put(String option, Tensor tensor) {
        if (!targets.containsKey(option)) {
            throw new IllegalStateException("output " + option + " was not declared");
        }
        contents.put(option, tensor);
    }

    /** Writes every declared output, or none of them (see the class comment). */
    void writeAll() {
        for (String option : targets.keySet()) {
            if (!contents.containsKey(option)) {
                throw new IllegalStateException("output " + option + " was declared but never given a tensor");
            }
        }
        List<Path> temporaries = new ArrayList<>();
        try {
            for (Map.Entry<String, Path> target : targets.entrySet()) {
                temporaries.add(stage(target.getKey(), target.getValue(), contents.get(target.getKey())));
            }
        } catch (RuntimeException failure) {
            deleteQuietly(temporaries, failure);
            throw failure;
        }
        List<Path> moved = new ArrayList<>();
        int index = 0;
        for (Map.Entry<String, Path> target : targets.entrySet()) {
            Path destination = target.getValue().toAbsolutePath();
            try {
                Files.move(temporaries.get(index), destination, StandardCopyOption.REPLACE_EXISTING,
                        StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                FileAccessException failure = FileAccessException.writing(target.getKey(), target.getValue(), e);
                deleteQuietly(temporaries.subList(index, temporaries.size()), failure);
                deleteQuietly(moved, failure);
                throw failure;
            }
            moved.add(destination);
            index++;
        }
    }

    /** Writes {@code tensor} into a new temporary file in {@code path}'s directory and returns it. */
    private static Path stage(String option, Path path, Tensor tensor) {
        Path absolute = path.toAbsolutePath();
        Path temporary;
        try {
            temporary = createTemporary(absolute);
        } catch (IOException e) {
            throw FileAccessException.writing(option, path, e);
        }
        try (OutputStream out = Files.newOutputStream(temporary)) {
            Npy.write(out, tensor);
        } catch (IOException e) {
            FileAccessException failure = FileAccessException.writing(option, path, e);
            deleteQuietly(List.of(temporary), failure);
            throw failure;
        }
        return temporary;
    }

    /**
     * A new empty file {@code .<name>.<random>.tmp} beside {@code target}. Made with {@link Files#createFile}
     * rather than {@link Files#createTempFile} so that it gets the usual permissions (the umask's), which
     * the output keeps once moved, instead of owner-only ones.
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

    /** Best-effort cleanup after a failure; anything that cannot be removed is noted on that failure. */
    private static void deleteQuietly(List<Path> paths, RuntimeException failure) {
        for (Path path : paths) {
            try {
                Files.deleteIfExists(path);
            } catch (IOException e) {
                failure.addSuppressed(e);
            }
        }
    }
}
