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

    /** A rounded copy of {@code values}; the array itself is left as it is (it is the caller's). */
    public static float[] roundedCopy(float[] values) {
        float[] rounded = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            rounded[i] = round(values[i]);
        }
        return rounded;
    }
}
