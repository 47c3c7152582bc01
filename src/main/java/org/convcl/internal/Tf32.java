package org.convcl.internal;

/**
 * Rounding float32 values to TensorFloat-32 the way NVIDIA's {@code cvt.rna.tf32.f32} does: to nearest, ties away
 * from zero, keeping 10 of the 23 mantissa bits (the low 13 become zero). Infinities and NaNs pass unchanged;
 * values near the largest float may round up to infinity, as the hardware's do. The OpenCL kernels' twin is
 * {@code kernels/tf32.cl}.
 */
public final class Tf32 {
    /** The 13 mantissa bits TF32 drops. */
    private static final int DROPPED = 0x1fff;
    /** Half of the last kept bit: adding it to the magnitude and truncating rounds half away from zero. */
    private static final int HALF = 0x1000;
    private static final int EXPONENT = 0x7f800000;

    private Tf32() {
    }

    public static float round(float value) {
        int bits = Float.floatToRawIntBits(value);
        if ((bits & EXPONENT) == EXPONENT) {
            return value;
        }
        // Sign-magnitude: the carry of the addition moves the magnitude up, whatever the sign.
        return Float.intBitsToFloat((bits + HALF) & ~DROPPED);
    }

    /** Arrays longer than this are rounded by every core, in pieces of this many floats. */
    private static final int PIECE = 1 << 16;

    /**
     * A rounded copy of {@code values}; the array itself is left as it is (it is the caller's). Large arrays (a
     * batch's input) are rounded by every core: a pass over the input that would otherwise run on one core while
     * the convolution that follows runs on all.
     */
    public static float[] roundedCopy(float[] values) {
        float[] rounded = new float[values.length];
        int pieces = (values.length + PIECE - 1) / PIECE;
        if (pieces <= 1) {
            roundRange(values, rounded, 0, values.length);
        } else {
            CpuWorkers.forEach(pieces, piece -> roundRange(values, rounded,
                    piece * PIECE, Math.min(values.length, (piece + 1) * PIECE)));
        }
        return rounded;
    }

    private static void roundRange(float[] values, float[] rounded, int from, int to) {
        for (int i = from; i < to; i++) {
            rounded[i] = round(values[i]);
        }
    }
}
