package org.convcl.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Random;
import org.convcl.nn.ConvGradients;

/**
 * Checks float32 gradients of {@code sum(f(x, w) * dy)} against float64 references, with the golden suite's
 * tolerance rule: element i may be off by {@code 1e-5 * (sum of |terms| behind it)}. The sum of |terms| of
 * {@code dx_i = sum w * dy} is {@code <f(e_i, |w|), |dy|>} and of {@code dw_j} is {@code <f(|x|, e_j), |dy|>}:
 * the reference applied to absolute values and a unit vector, so no term can cancel another.
 */
public final class GradientCheck {
    /** Finite-difference step; f is linear in each argument, so the central difference is exact but for rounding. */
    private static final double STEP = 1e-2;

    private GradientCheck() {
    }

    /** Per element of x, the sum of |w * dy| terms behind dx. */
    public static double[] inputScale(BilinearReference f, double[] w, double[] dy) {
        double[] absW = abs(w);
        double[] absDy = abs(dy);
        double[] scale = new double[f.inputLength()];
        for (int i = 0; i < scale.length; i++) {
            scale[i] = dot(f.apply(unit(scale.length, i), absW), absDy);
        }
        return scale;
    }

    /** For element i of x alone, the sum of |w * dy| terms behind dx_i. */
    public static double inputScale(BilinearReference f, double[] w, double[] dy, int i) {
        return dot(f.apply(unit(f.inputLength(), i), abs(w)), abs(dy));
    }

    /** For element j of w alone, the sum of |x * dy| terms behind dw_j. */
    public static double kernelScale(BilinearReference f, double[] x, double[] dy, int j) {
        return dot(f.apply(abs(x), unit(f.kernelLength(), j)), abs(dy));
    }

    /** Per element of w, the sum of |x * dy| terms behind dw. */
    public static double[] kernelScale(BilinearReference f, double[] x, double[] dy) {
        double[] absX = abs(x);
        double[] absDy = abs(dy);
        double[] scale = new double[f.kernelLength()];
        for (int j = 0; j < scale.length; j++) {
            scale[j] = dot(f.apply(absX, unit(scale.length, j)), absDy);
        }
        return scale;
    }

    /** Central difference of {@code sum(f(x, w) * dy)} in x_i. */
    public static double inputDerivative(BilinearReference f, double[] x, double[] w, double[] dy, int i) {
        double[] plus = x.clone();
        double[] minus = x.clone();
        plus[i] += STEP;
        minus[i] -= STEP;
        return (dot(f.apply(plus, w), dy) - dot(f.apply(minus, w), dy)) / (2 * STEP);
    }

    /** Central difference of {@code sum(f(x, w) * dy)} in w_j. */
    public static double kernelDerivative(BilinearReference f, double[] x, double[] w, double[] dy, int j) {
        double[] plus = w.clone();
        double[] minus = w.clone();
        plus[j] += STEP;
        minus[j] -= STEP;
        return (dot(f.apply(x, plus), dy) - dot(f.apply(x, minus), dy)) / (2 * STEP);
    }

    /** Asserts {@code |actual - expected| <= 1e-5 * scale} element-wise. */
    public static void assertClose(String what, double[] expected, double[] scale, float[] actual) {
        assertEquals(expected.length, actual.length, what + ": element count");
        for (int i = 0; i < expected.length; i++) {
            assertElement(what, i, expected[i], scale[i], actual[i]);
        }
    }

    /** One element; an element with no terms behind it (scale 0) must be exactly zero. */
    public static void assertElement(String what, int i, double expected, double scale, float actual) {
        double bound = Tolerance.RELATIVE * scale + 1e-30;
        double error = Math.abs(actual - expected);
        if (!(error <= bound)) {
            fail(what + ": element " + i + " is " + actual + ", expected " + expected + " (error " + error
                    + " > bound " + bound + ")");
        }
    }

    /** Elements checked by finite differences per gradient and configuration. */
    public static final int SAMPLES = 10;

    /**
     * Checks a library backward pass against central differences of the float64 reference: dx and dkernel
     * on up to {@link #SAMPLES} random elements each (every one when there are few), dbias in full (its
     * derivative is the sum of dy per channel; null when {@code hasBias} is false).
     */
    public static void assertGradients(String what, BilinearReference f, double[] x, double[] w, double[] dy,
            boolean hasBias, ConvGradients grads, Random random) {
        for (int i : sample(random, f.inputLength(), SAMPLES)) {
            assertElement(what + " dx", i, inputDerivative(f, x, w, dy, i), inputScale(f, w, dy, i),
                    grads.dx().data()[i]);
        }
        for (int j : sample(random, f.kernelLength(), SAMPLES)) {
            assertElement(what + " dkernel", j, kernelDerivative(f, x, w, dy, j), kernelScale(f, x, dy, j),
                    grads.dkernel().data()[j]);
        }
        if (!hasBias) {
            if (grads.dbias() != null) {
                fail(what + ": a layer without bias has no bias gradient");
            }
            return;
        }
        float[] dbias = grads.dbias().data();
        double[] sum = new double[dbias.length];
        double[] scale = new double[dbias.length];
        for (int i = 0; i < dy.length; i++) {
            sum[i % dbias.length] += dy[i];
            scale[i % dbias.length] += Math.abs(dy[i]);
        }
        assertClose(what + " dbias", sum, scale, dbias);
    }

    /**
     * The adjoint identities of a layer linear in x and in w: {@code <y - bias, dy> = <x, dx> = <w, dw>}, to
     * within {@code 1e-5 * sum of |x * w * dy|} ({@code absSums} are the reference's per-output |term| sums).
     */
    public static void assertAdjoint(String what, double[] yMinusBias, double[] absSums, double[] dy, double[] x,
            double[] dx, double[] w, double[] dw) {
        double output = dot(yMinusBias, dy);
        double scale = dot(absSums, abs(dy));
        double bound = Tolerance.RELATIVE * scale + 1e-30;
        double input = dot(x, dx);
        double kernel = dot(w, dw);
        if (!(Math.abs(output - input) <= bound)) {
            fail(what + ": <y - b, dy> = " + output + " but <x, dx> = " + input + " (bound " + bound + ")");
        }
        if (!(Math.abs(output - kernel) <= bound)) {
            fail(what + ": <y - b, dy> = " + output + " but <w, dw> = " + kernel + " (bound " + bound + ")");
        }
    }

    /** Up to {@code count} distinct indices below {@code length}, all of them when there are few. */
    public static int[] sample(Random random, int length, int count) {
        if (length <= count) {
            int[] all = new int[length];
            for (int i = 0; i < length; i++) {
                all[i] = i;
            }
            return all;
        }
        return random.ints(0, length).distinct().limit(count).toArray();
    }

    public static double dot(double[] a, double[] b) {
        assertEquals(a.length, b.length, "dot: lengths");
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            sum += a[i] * b[i];
        }
        return sum;
    }

    public static double[] abs(double[] values) {
        double[] result = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            result[i] = Math.abs(values[i]);
        }
        return result;
    }

    private static double[] unit(int length, int index) {
        double[] e = new double[length];
        e[index] = 1;
        return e;
    }
}
