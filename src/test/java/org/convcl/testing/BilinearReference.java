package org.convcl.testing;

/**
 * A float64 reference convolution without bias, {@code y = f(x, w)}, linear in x and in w separately. Gradients
 * are checked against it by finite differences, and their tolerances are scaled by the sums of |terms| it
 * gives on absolute values (see {@link GradientCheck}).
 */
public interface BilinearReference {
    /** The output for input {@code x} and kernel {@code w} (flat, in the shapes the reference was made for). */
    double[] apply(double[] x, double[] w);

    int inputLength();

    int kernelLength();
}
