package org.convcl;

import org.convcl.nn.ConvGradients;
import org.convcl.nn.Conv;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.testing.GoldenCase;
import org.convcl.testing.GoldenGradients;
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

        GoldenGradients.assertMatchFlax(c, grads.dx(), grads.dkernel(), grads.dbias());
    }
}
