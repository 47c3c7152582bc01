package org.convcl.cli;

import org.convcl.DType;
import org.convcl.Precision;
import picocli.CommandLine.Option;

/**
 * {@code --dtype}, the type a run computes in and stores its operands and results in (issue 26): a picocli mixin,
 * declared by {@link LayerRun} for {@code conv} and {@code conv-transpose} (the layer built with that type);
 * {@code pool}, {@code bench} and {@code tune} declare it with help of their own and parse it here.
 */
final class DTypeOption {
    /** The help's paragraph on the .npy files each type reads and writes, for conv and conv-transpose. */
    static final String DESCRIPTION = "The type the layer computes in: float32, float16 (IEEE binary16; inputs must "
            + "be float16 files, '<f2' or '>f2') or bfloat16 (NumPy has no such dtype: inputs are float32 or float64 "
            + "files, rounded to bfloat16). A 16-bit run rounds the operands to the type, sums products in float32 "
            + "and rounds each result once. Y, dX, dK and dR are written in the type (float16 as '<f2', bfloat16 as "
            + "float32 files holding its values exactly). --scale and --shift are float32 or float64 files in every "
            + "type, and dB, dS and dT float32 files: a 16-bit layer keeps them in float32. 16-bit types take "
            + "--precision highest only. Default: ${DEFAULT-VALUE}.";

    @Option(names = "--dtype", paramLabel = "float32|float16|bfloat16", defaultValue = "float32",
            description = DESCRIPTION)
    private String text;

    /** The type named, in any letter case; anything else is refused as {@link DType#parse} refuses it. */
    DType parse() {
        return parse(text);
    }

    /**
     * Refuses (exit 2) {@code --precision tf32} with a 16-bit {@code --dtype}: TF32 is a rounding of float32
     * operands, and 16-bit ones are multiplied in float32 already. Called once the settings are parsed and before
     * any file is read.
     */
    static void checkPrecision(DType dtype, Precision precision) {
        if (dtype != DType.FLOAT32 && precision != Precision.HIGHEST) {
            throw new IllegalArgumentException("--precision " + precision.cliName() + " given with --dtype "
                    + dtype.cliName() + ": TF32 rounds float32 operands; 16-bit operands are multiplied in float32 "
                    + "already, so --precision must be highest");
        }
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
