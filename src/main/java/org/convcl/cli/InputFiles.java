package org.convcl.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.convcl.DType;
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
 * <p>Which {@code .npy} dtypes are acceptable depends on the run's {@code --dtype}: float16 files for
 * {@link DType#FLOAT16} (their values, which float32 holds exactly), float32 and float64 files otherwise
 * (bfloat16 has no NumPy dtype: its operands come as float32 and the layer rounds them). Operands that stay float32
 * in a 16-bit layer (the epilogue's scale and shift) are float32 or float64 files in every run
 * ({@link #readFloat32IfGiven}).
 *
 * <p>Not thread-safe; one instance per command run.
 */
final class InputFiles {
    /** Option name to path, in the order the files were read. */
    private final Map<String, Path> read = new LinkedHashMap<>();
    /** The run's {@code --dtype}; null for a command without that option, which reads float32 and float64. */
    private final DType dtype;

    /** The files of a command without {@code --dtype}. */
    InputFiles() {
        this(null);
    }

    /** The files of a run whose {@code --dtype} is {@code dtype}. */
    InputFiles(DType dtype) {
        this.dtype = dtype;
    }

    Tensor read(String option, Path path) {
        return read(option, path, dtype == DType.FLOAT16, this::dtypeRule);
    }

    /**
     * {@link #read} for an operand that is float32 in every {@code --dtype} run (the epilogue's scale and shift,
     * which a 16-bit layer keeps in float32): float32 and float64 files, whatever the run's type.
     */
    Tensor readFloat32IfGiven(String option, Path path) {
        if (path == null) {
            return null;
        }
        if (dtype == null || dtype == DType.FLOAT32) {
            return read(option, path);
        }
        return read(option, path, false, refused -> "is not supported; " + option + " is float32 in every "
                + "--dtype (a 16-bit layer keeps its epilogue's scale and shift in float32): give a float32 or "
                + "float64 .npy file ('<f4', '>f4', '<f8', '>f8')");
    }

    /**
     * Reads {@code path} as float16 or as float32/float64; a refused dtype gets {@code rule}'s words (null: the
     * reader's own message).
     */
    private Tensor read(String option, Path path, boolean float16, UnaryOperator<String> rule) {
        PathChecks.checkInput(option, path);
        read.put(option, path);
        try {
            return float16 ? Npy.readFloat16(path).toTensor() : Npy.read(path);
        } catch (NpyFormatException badContent) {
            String refused = badContent.refusedDtype();
            String why = refused == null ? null : rule.apply(refused);
            if (why != null) {
                throw new IllegalArgumentException(option + " " + path + ": dtype '" + refused + "' " + why,
                        badContent);
            }
            // Its message already starts with the path.
            throw new IllegalArgumentException(option + " " + badContent.getMessage(), badContent);
        } catch (IOException e) {
            throw FileAccessException.reading(option, path, e);
        }
    }

    /**
     * Why a file of {@code refused} does not fit this run, and what would; null to keep the reader's message. A
     * float16 file, or any refused dtype under a 16-bit --dtype, gets the rule of this run's --dtype; under float32
     * any other dtype keeps the reader's own message (what a command without --dtype says).
     */
    private String dtypeRule(String refused) {
        boolean isFloat16 = isFloat16(refused);
        if (dtype == null || (dtype == DType.FLOAT32 && !isFloat16)) {
            return null;
        }
        return switch (dtype) {
            case FLOAT16 -> "is not float16; --dtype float16 reads float16 .npy files ('<f2' or '>f2') only: "
                    + "convert it (numpy: a.astype(numpy.float16)) or give --dtype float32";
            case BFLOAT16 -> "is not supported; --dtype bfloat16 reads float32 and float64 .npy files ('<f4', "
                    + "'>f4', '<f8', '>f8'; NumPy has no bfloat16) and rounds them to bfloat16"
                    + (isFloat16 ? "; give --dtype float16 for a float16 file" : "");
            case FLOAT32 -> "is not supported; --dtype float32 reads float32 and float64 .npy files ('<f4', '>f4', "
                    + "'<f8', '>f8')" + (isFloat16 ? "; give --dtype float16 for a float16 file" : "");
        };
    }

    private static boolean isFloat16(String dtype) {
        return dtype.length() == 3 && dtype.endsWith("f2");
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
