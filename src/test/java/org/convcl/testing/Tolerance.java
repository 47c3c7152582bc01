package org.convcl.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The comparison rule of the golden suite's README: a float32 result matches a float64 reference when every
 * element is within {@code 1e-5 * sum_k |x_k * w_k|} (the sum's own scale), with the scale taken from the
 * naive reference; an element whose scale is zero must be exactly zero.
 */
public final class Tolerance {
    public static final double RELATIVE = 1e-5;
    /**
     * The rule for TF32 results, derived the same way from the operands: rounding each operand to 10 mantissa
     * bits (to nearest) moves it by at most {@code 2^-11} of itself, so a product moves by at most
     * {@code (2 * 2^-11 + 2^-22)} of |x * w|, and a sum of products by that times {@code sum |x * w|}; float32
     * accumulation adds the float32 rule's share.
     */
    public static final double TF32_RELATIVE = 2 * 0x1p-11 + 0x1p-22 + RELATIVE;
    /** The accuracy target for TF32: max |got - ref| / max |ref| against float64. */
    public static final double TF32_MAX_REL_ERR = 5e-3;

    private Tolerance() {
    }

    public static void assertClose(String what, int[] expectedShape, double[] expected, double[] scale,
            int[] actualShape, float[] actual) {
        assertClose(what, expectedShape, expected, scale, actualShape, actual, RELATIVE);
    }

    /**
     * {@link #assertClose(String, int[], double[], double[], int[], float[])} for a TF32 result: every element within
     * {@link #TF32_RELATIVE} of its scale, and the whole within {@link #TF32_MAX_REL_ERR}.
     */
    public static void assertCloseTf32(String what, int[] expectedShape, double[] expected, double[] scale,
            int[] actualShape, float[] actual) {
        assertClose(what, expectedShape, expected, scale, actualShape, actual, TF32_RELATIVE);
        double maxRelErr = maxRelErr(expected, actual);
        if (!(maxRelErr <= TF32_MAX_REL_ERR)) {
            fail(what + ": max_rel_err " + maxRelErr + " exceeds " + TF32_MAX_REL_ERR);
        }
    }

    /** {@code max |got - ref| / max |ref|}, the bench's measure (the error itself when the reference is zero). */
    public static double maxRelErr(double[] expected, float[] actual) {
        double maxError = 0;
        double maxReference = 0;
        for (int i = 0; i < expected.length; i++) {
            maxError = Math.max(maxError, Math.abs(actual[i] - expected[i]));
            maxReference = Math.max(maxReference, Math.abs(expected[i]));
        }
        return maxReference == 0 ? maxError : maxError / maxReference;
    }

    /** Every element within {@code relative} times its scale. */
    public static void assertClose(String what, int[] expectedShape, double[] expected, double[] scale,
            int[] actualShape, float[] actual, double relative) {
        assertArrayEquals(expectedShape, actualShape, what + ": shape");
        if (expected.length != actual.length) {
            fail(what + ": " + actual.length + " elements, expected " + expected.length);
        }
        for (int i = 0; i < expected.length; i++) {
            double bound = relative * scale[i] + 1e-30;
            double error = Math.abs(actual[i] - expected[i]);
            if (!(error <= bound)) {
                fail(what + ": element " + i + " is " + actual[i] + ", expected " + expected[i] + " (error "
                        + error + " > bound " + bound + ")");
            }
        }
    }

    /** Relative L2 error {@code ||got - ref|| / ||ref||} (0 when both are zero). */
    public static double relativeL2(double[] expected, float[] actual) {
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < expected.length; i++) {
            double e = actual[i] - expected[i];
            diff += e * e;
            norm += expected[i] * expected[i];
        }
        return norm == 0 ? Math.sqrt(diff) : Math.sqrt(diff / norm);
    }

    public static double[] toDouble(float[] values) {
        double[] result = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            result[i] = values[i];
        }
        return result;
    }
}
