package org.convcl.cli;

import org.convcl.DType;
import picocli.CommandLine.Option;

/**
 * {@code --dtype}, the storage type of a run's operands and output (issue 26): a picocli mixin, declared by
 * {@link LayerRun} for {@code conv} and {@code conv-transpose} (which refuses the 16-bit types) and by
 * {@code bench} with help of its own. What a 16-bit {@code conv} run takes and refuses is {@link HalfPrecisionRun}'s
 * to say.
 */
final class DTypeOption {
    /** The help's paragraph on the .npy files each type reads and writes. */
    static final String DESCRIPTION = "How operands and output are stored: float32, float16 (IEEE binary16: its "
            + ".npy inputs must be float16, '<f2' or '>f2', and Y is written as '<f2') or bfloat16 (NumPy has no "
            + "such dtype: its inputs are float32 or float64 .npy files rounded to bfloat16 on upload, and Y is a "
            + "float32 .npy holding the bfloat16 values exactly). Products are accumulated in float32. 16-bit "
            + "runs are conv's only for now (on an OpenCL device or the Java path), channels-last, without "
            + "gradient or epilogue options. "
            + "Default: ${DEFAULT-VALUE}.";

    @Option(names = "--dtype", paramLabel = "float32|float16|bfloat16", defaultValue = "float32",
            description = DESCRIPTION)
    private String text;

    /** The type named, in any letter case; anything else is refused as {@link DType#parse} refuses it. */
    DType parse() {
        return parse(text);
    }

    /** {@link #parse()} for a command that declares {@code --dtype} with help of its own ({@code bench}). */
    static DType parse(String text) {
        try {
            return DType.parse(text);
        } catch (IllegalArgumentException e) {
            // DType's messages start with "dtype: "; the option is "--dtype".
            throw new IllegalArgumentException("--" + e.getMessage(), e);
        }
    }
}
