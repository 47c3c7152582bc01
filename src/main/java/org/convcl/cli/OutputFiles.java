package org.convcl.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.convcl.DType;
import org.convcl.HalfFloats;
import org.convcl.Tensor;
import org.convcl.io.Float16Array;
import org.convcl.io.Npy;

/**
 * The {@code .npy} files one command run writes (Y, and dX, dK, dB when gradients are asked for), written
 * together at the end: all of them or none.
 *
 * <p>Each output is {@link #declare declared} before any computation, so that one that breaks
 * {@link PathChecks}' rules (not a regular file or a new path, a missing or read-only directory, a file this user
 * may not write, one of the inputs) or names the same file as another output is refused (exit 2) before any
 * work. Once every tensor is computed and {@link #put}, {@link #writeAll} works in two phases: it first writes
 * every tensor into a temporary file beside its target (the end of a symbolic link's chain: the link stays a
 * link), then moves each temporary onto its target, atomically ({@link StagedOutput}). A failure in the
 * first phase (disk full, a directory that vanished) leaves nothing behind and every target as it was. A
 * failure in the second, which is a rename within one directory and so rare, removes the outputs this run
 * had already moved into place, so that no partial set of results is left.
 *
 * <p>Not thread-safe; one instance per command run.
 */
final class OutputFiles {
    /** Option name to target path, in the order the outputs were declared (and are written). */
    private final Map<String, Path> targets = new LinkedHashMap<>();
    private final Map<String, NpyContent> contents = new HashMap<>();
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
     * Adds an output named by {@code option}. Refuses (exit 2) a path another output already names (itself or
     * through a link), one of the inputs, and a path that breaks {@link PathChecks#checkOutput}'s rules.
     */
    void declare(String option, Path path) {
        Path normalized = writtenFile(path);
        targets.forEach((otherOption, otherPath) -> {
            if (writtenFile(otherPath).equals(normalized)) {
                throw new IllegalArgumentException(option + " " + path + ": the same file as " + otherOption
                        + "; every output needs a file of its own");
            }
        });
        PathChecks.checkOutput(option, path);
        PathChecks.checkNotAnInput(option, path, inputs);
        targets.put(option, path);
    }

    /** The file that writing {@code path} replaces, for comparing outputs: the end of its links, normalised. */
    private static Path writtenFile(Path path) {
        try {
            return OutputTarget.resolve(path).normalize();
        } catch (IOException loop) {
            // A loop of links: PathChecks refuses it with its own message.
            return path.toAbsolutePath().normalize();
        }
    }

    /** An output's {@code .npy} content, written into the staged file: float32 or float16. */
    @FunctionalInterface
    private interface NpyContent {
        void writeTo(OutputStream out) throws IOException;
    }

    /** The tensor to write, as little-endian float32, for a declared output. */
    void put(String option, Tensor tensor) {
        putContent(option, out -> Npy.write(out, tensor));
    }

    /** The float16 array to write, as little-endian float16 ({@code '<f2'}), for a declared output. */
    void putFloat16(String option, Float16Array array) {
        putContent(option, out -> Npy.writeFloat16(out, array));
    }

    /**
     * A result of a run in {@code dtype}, whose float32 values are the type's: as float16 ({@code '<f2'}) for
     * {@link DType#FLOAT16}, else as float32 (bfloat16 has no NumPy dtype; float32 holds its values exactly).
     *
     * @throws IllegalStateException when a value is not a float16 one, which would be a bug of the computation:
     *     writing it rounded would hide that
     */
    void putStored(String option, DType dtype, Tensor values) {
        if (dtype != DType.FLOAT16) {
            put(option, values);
            return;
        }
        short[] bits = HalfFloats.encode(DType.FLOAT16, values.data());
        for (int i = 0; i < bits.length; i++) {
            float decoded = HalfFloats.halfToFloat(bits[i]);
            if (Float.floatToIntBits(decoded) != Float.floatToIntBits(values.data()[i])
                    && !(Float.isNaN(decoded) && Float.isNaN(values.data()[i]))) {
                throw new IllegalStateException("output " + option + ": element " + i + " is "
                        + values.data()[i] + ", not a float16 value; a float16 run's results are float16");
            }
        }
        putFloat16(option, Float16Array.of(bits, values.shape()));
    }

    private void putContent(String option, NpyContent content) {
        if (!targets.containsKey(option)) {
            throw new IllegalStateException("output " + option + " was not declared");
        }
        contents.put(option, content);
    }

    /** Writes every declared output, or none of them (see the class comment). */
    void writeAll() {
        for (String option : targets.keySet()) {
            if (!contents.containsKey(option)) {
                throw new IllegalStateException("output " + option + " was declared but never given a tensor");
            }
        }
        List<StagedOutput> staged = new ArrayList<>();
        try {
            for (Map.Entry<String, Path> target : targets.entrySet()) {
                NpyContent content = contents.get(target.getKey());
                staged.add(StagedOutput.stage(target.getKey(), target.getValue(), temporary -> {
                    try (OutputStream out = Files.newOutputStream(temporary)) {
                        content.writeTo(out);
                    }
                }));
            }
        } catch (RuntimeException failure) {
            staged.forEach(output -> output.discard(failure));
            throw failure;
        }
        List<Path> moved = new ArrayList<>();
        for (int index = 0; index < staged.size(); index++) {
            try {
                staged.get(index).commit();
            } catch (FileAccessException failure) {
                staged.subList(index + 1, staged.size()).forEach(output -> output.discard(failure));
                StagedOutput.deleteQuietly(moved, failure);
                throw failure;
            }
            moved.add(staged.get(index).target());
        }
    }
}
