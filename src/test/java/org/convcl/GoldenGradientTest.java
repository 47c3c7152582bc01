package org.convcl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;
import org.convcl.backend.CpuBackend;
import org.convcl.testing.ConvReference;
import org.convcl.testing.GoldenCase;
import org.convcl.testing.GradientCheck;
import org.convcl.testing.Tolerance;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every golden case with gradients: dx, dkernel and dbias of sum(y * ct) as jax differentiates flax nnx.Conv. */
class GoldenGradientTest {

    static Stream<GoldenCase> gradientCases() {
        return GoldenCase.all().stream().filter(GoldenCase::grads);
    }

    @Test
    void suiteHoldsGradientCases() {
        assertTrue(gradientCases().count() >= 16, "gradient cases: " + gradientCases().count());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("gradientCases")
    void javaBackendReproducesFlaxGradients(GoldenCase c) {
        Tensor x = c.array("x");
        Tensor kernel = c.array("kernel");
        Tensor ct = c.array("ct");
        Conv layer = Conv.builder(kernel).bias(c.has("bias") ? c.array("bias") : null).spec(c.spec())
                .backend(CpuBackend.instance()).build();
        ConvGradients grads = layer.backward(x, ct);

        ConvReference f = ConvReference.of(c);
        double[] dy = Tolerance.toDouble(ct.data());
        assertArrayEquals(x.shape(), grads.dx().shape(), c.name() + " dx shape");
        GradientCheck.assertClose(c.name() + " dx", c.reference("dx"),
                GradientCheck.inputScale(f, Tolerance.toDouble(kernel.data()), dy), grads.dx().data());
        assertArrayEquals(kernel.shape(), grads.dkernel().shape(), c.name() + " dkernel shape");
        GradientCheck.assertClose(c.name() + " dkernel", c.reference("dkernel"),
                GradientCheck.kernelScale(f, Tolerance.toDouble(x.data()), dy), grads.dkernel().data());
        if (c.has("bias")) {
            double[] dbiasScale = new double[kernel.dim(kernel.rank() - 1)];
            for (int i = 0; i < dy.length; i++) {
                dbiasScale[i % dbiasScale.length] += Math.abs(dy[i]);
            }
            GradientCheck.assertClose(c.name() + " dbias", c.reference("dbias"), dbiasScale, grads.dbias().data());
        } else {
            assertNull(grads.dbias(), c.name() + ": a layer without bias has no bias gradient");
        }
    }
}
