package org.convcl.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import org.convcl.nn.ConvGradients;
import org.convcl.ConvSpec;
import org.convcl.ConvTransposeSpec;
import org.convcl.Precision;
import org.convcl.Tensor;

/**
 * The golden suite's checks for results computed in {@link Precision#TF32}: against the float64 references, with
 * the tolerance {@link Tolerance#TF32_RELATIVE} derived from the operands as the float32 rule is, and the issue's
 * {@link Tolerance#TF32_MAX_REL_ERR} over the whole result.
 */
public final class Tf32Checks {
    private Tf32Checks() {
    }

    public static ConvSpec tf32(ConvSpec spec) {
        return spec.toBuilder().precision(Precision.TF32).build();
    }

    public static ConvTransposeSpec tf32(ConvTransposeSpec spec) {
        return spec.toBuilder().precision(Precision.TF32).build();
    }

    /** A forward golden conv case's {@code y}. */
    public static void assertForward(GoldenCase c, Tensor y) {
        NaiveConv.Result reference = Reference.forward(c);
        Tolerance.assertCloseTf32(c.name(), reference.shape(), c.reference("y"), reference.absSums(), y.shape(),
                y.data());
    }

    /** A golden gradient case's dx and dkernel (TF32 products), and dbias (a plain sum, float32's rule). */
    public static void assertGradients(GoldenCase c, ConvGradients grads) {
        Tensor x = c.array("x");
        Tensor kernel = c.array("kernel");
        ConvReference f = ConvReference.of(c);
        double[] dy = Tolerance.toDouble(c.array("ct").data());
        Tolerance.assertCloseTf32(c.name() + " dx", x.shape(), c.reference("dx"),
                GradientCheck.inputScale(f, Tolerance.toDouble(kernel.data()), dy), grads.dx().shape(),
                grads.dx().data());
        Tolerance.assertCloseTf32(c.name() + " dkernel", kernel.shape(), c.reference("dkernel"),
                GradientCheck.kernelScale(f, Tolerance.toDouble(x.data()), dy), grads.dkernel().shape(),
                grads.dkernel().data());
        if (c.has("bias")) {
            assertNotNull(grads.dbias(), c.name() + ": a layer with bias has a bias gradient");
            double[] dbiasScale = new double[kernel.dim(kernel.rank() - 1)];
            for (int i = 0; i < dy.length; i++) {
                dbiasScale[i % dbiasScale.length] += Math.abs(dy[i]);
            }
            assertArrayEquals(new int[] {dbiasScale.length}, grads.dbias().shape(), c.name() + " dbias shape");
            GradientCheck.assertClose(c.name() + " dbias", c.reference("dbias"), dbiasScale, grads.dbias().data());
        }
    }
}
