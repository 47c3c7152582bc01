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

    private Tolerance() {
    }

    public static void assertClose(String what, int[] expectedShape, double[] expected, double[] scale,
            int[] actualShape, float[] actual) {
        assertArrayEquals(expectedShape, actualShape, what + ": shape");
        if (expected.length != actual.length) {
            fail(what + ": " + actual.length + " elements, expected " + expected.length);
        }
        for (int i = 0; i < expected.length; i++) {
            double bound = RELATIVE * scale[i] + 1e-30;
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
