package org.convcl;

import org.convcl.nn.Conv;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.stream.Stream;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.testing.GoldenCase;
import org.convcl.testing.NaiveConv;
import org.convcl.testing.Reference;
import org.convcl.testing.Tolerance;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every forward golden case of flax nnx.Conv, on the Java backend; refusals included. */
class GoldenConvTest {

    static Stream<GoldenCase> computedCases() {
        return GoldenCase.ofOp("conv").stream().filter(c -> c.error() == null);
    }

    static Stream<GoldenCase> refusedCases() {
        return GoldenCase.ofOp("conv").stream().filter(c -> c.error() != null);
    }

    @Test
    void manifestHoldsTheWholeSuite() {
        assertEquals(93, GoldenCase.all().size());
        assertTrue(refusedCases().count() >= 3);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("computedCases")
    void naiveReferenceAgreesWithFlax(GoldenCase c) {
        // The tests' own float64 reference must reproduce flax before it may judge anything else.
        NaiveConv.Result reference = Reference.forward(c);
        double[] flax = c.reference("y");
        assertEquals(flax.length, reference.values().length, "element count");
        for (int i = 0; i < flax.length; i++) {
            assertTrue(Math.abs(flax[i] - reference.values()[i]) <= 1e-9 * reference.absSums()[i] + 1e-30,
                    "element " + i + ": naive " + reference.values()[i] + " vs flax " + flax[i]);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("computedCases")
    void javaBackendReproducesFlax(GoldenCase c) {
        Conv layer = Conv.builder(c.array("kernel")).bias(c.has("bias") ? c.array("bias") : null).spec(c.spec())
                .backend(CpuBackend.instance()).build();
        Tensor y = layer.apply(c.array("x"));
        NaiveConv.Result reference = Reference.forward(c);
        Tolerance.assertClose(c.name(), reference.shape(), c.reference("y"), reference.absSums(), y.shape(),
                y.data());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("refusedCases")
    void refusesWhatFlaxRefuses(GoldenCase c) {
        IllegalArgumentException refusal = assertThrows(IllegalArgumentException.class, () -> Conv
                .builder(Tensor.zeros(c.flaxKernelShape())).spec(c.spec()).backend(CpuBackend.instance()).build()
                .apply(c.array("x")));
        assertTrue(refusal.getMessage().length() > 20, "a refusal explains itself: " + refusal.getMessage());
    }

    @Test
    void outputShapesMatchTheManifest() {
        for (GoldenCase c : computedCases().toList()) {
            ConvGeometry g = c.spec().resolve(c.inputShape(), c.array("kernel").shape());
            assertEquals(Arrays.toString(c.array("y").shape()), Arrays.toString(g.outputShape()), c.name());
        }
    }
}
