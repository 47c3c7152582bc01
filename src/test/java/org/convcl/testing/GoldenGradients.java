package org.convcl.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.convcl.Tensor;

/**
 * The golden suite's check of an nnx.Conv backward pass, wherever it was computed (the library, the CLI):
 * dx, dkernel and dbias against flax's float64 gradients, element by element within {@code 1e-5} times the
 * sum of |terms| behind each ({@link GradientCheck}), with the scales from the tests' own float64 reference.
 */
public final class GoldenGradients {
    private GoldenGradients() {
    }

    /**
     * Asserts the gradients of a case with {@code grads}; {@code dbias} must be null exactly when the case has
     * no bias.
     */
    public static void assertMatchFlax(GoldenCase c, Tensor dx, Tensor dkernel, Tensor dbias) {
        Tensor x = c.array("x");
        Tensor kernel = c.array("kernel");
        ConvReference f = ConvReference.of(c);
        double[] dy = Tolerance.toDouble(c.array("ct").data());
        assertArrayEquals(x.shape(), dx.shape(), c.name() + " dx shape");
        GradientCheck.assertClose(c.name() + " dx", c.reference("dx"),
                GradientCheck.inputScale(f, Tolerance.toDouble(kernel.data()), dy), dx.data());
        assertArrayEquals(kernel.shape(), dkernel.shape(), c.name() + " dkernel shape");
        GradientCheck.assertClose(c.name() + " dkernel", c.reference("dkernel"),
                GradientCheck.kernelScale(f, Tolerance.toDouble(x.data()), dy), dkernel.data());
        if (c.has("bias")) {
            assertNotNull(dbias, c.name() + ": a layer with bias has a bias gradient");
            double[] dbiasScale = new double[kernel.dim(kernel.rank() - 1)];
            for (int i = 0; i < dy.length; i++) {
                dbiasScale[i % dbiasScale.length] += Math.abs(dy[i]);
            }
            assertArrayEquals(new int[] {dbiasScale.length}, dbias.shape(), c.name() + " dbias shape");
            GradientCheck.assertClose(c.name() + " dbias", c.reference("dbias"), dbiasScale, dbias.data());
        } else {
            assertNull(dbias, c.name() + ": a layer without bias has no bias gradient");
        }
    }
}
