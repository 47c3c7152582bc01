package org.convcl;

import java.util.Locale;

/**
 * How the products of a convolution are computed, as flax's {@code precision} argument and PyTorch's
 * {@code allow_tf32} choose it.
 *
 * <ul>
 *   <li>{@link #HIGHEST} (the default): float32 operands and float32 accumulation, convcl's exact semantics.</li>
 *   <li>{@link #TF32}: both operands of every product rounded to TensorFloat-32 (round to nearest, ties away from
 *       zero, 10 explicit mantissa bits, as NVIDIA's {@code cvt.rna.tf32.f32}), accumulated in float32. NVIDIA
 *       GPUs of compute capability 8.0 and later run it on tensor cores; every other device and the Java path
 *       round the same way, so results agree across devices up to the order of accumulation. Relative error
 *       is about {@code 2^-11} per operand instead of {@code 2^-24}: what cuDNN and XLA use by default for
 *       float32 convolutions on Ampere and Hopper.</li>
 * </ul>
 *
 * <p>Depthwise convolutions (one input channel per group) compute in float32 whatever the setting: they are
 * bound by memory, so rounding would cost accuracy and gain nothing (cuDNN does the same). Bias addition and
 * the bias gradient are sums, not products, and stay float32.
 */
public enum Precision {
    /** Float32 operands and accumulation. */
    HIGHEST,
    /** TensorFloat-32 operands, float32 accumulation. */
    TF32;

    /** The name the CLI and the bench JSON use: {@code highest} or {@code tf32}. */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * The precision named {@code text} in any letter case ({@code highest} or {@code tf32}).
     *
     * @throws IllegalArgumentException naming the value and the choices
     */
    public static Precision parse(String text) {
        if (text != null) {
            for (Precision precision : values()) {
                if (precision.name().equalsIgnoreCase(text.trim())) {
                    return precision;
                }
            }
        }
        throw new IllegalArgumentException("precision: got " + (text == null ? "null" : "'" + text + "'")
                + "; expected one of highest, tf32");
    }
}
