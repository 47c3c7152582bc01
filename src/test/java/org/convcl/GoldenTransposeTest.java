package org.convcl;

import org.convcl.nn.Convolution;
import org.convcl.nn.ConvTranspose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.testing.ConvTransposeReference;
import org.convcl.testing.GoldenCase;
import org.convcl.testing.NaiveConv;
import org.convcl.testing.Tolerance;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every golden case of flax nnx.ConvTranspose, on the Java backend. */
class GoldenTransposeTest {

    static Stream<GoldenCase> transposeCases() {
        return GoldenCase.ofOp("conv_transpose").stream().filter(c -> c.error() == null);
    }

    @Test
    void suiteHoldsTransposeCases() {
        assertTrue(transposeCases().count() >= 12, "transpose cases: " + transposeCases().count());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("transposeCases")
    void naiveReferenceAgreesWithFlax(GoldenCase c) {
        // The tests' own float64 reference must reproduce flax before it may judge the library.
        NaiveConv.Result reference = reference(c);
        double[] flax = c.reference("y");
        assertArrayEquals(c.array("y").shape(), reference.shape(), c.name() + ": shape");
        for (int i = 0; i < flax.length; i++) {
            assertTrue(Math.abs(flax[i] - reference.values()[i]) <= 1e-9 * reference.absSums()[i] + 1e-30,
                    c.name() + " element " + i + ": naive " + reference.values()[i] + " vs flax " + flax[i]);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("transposeCases")
    void javaBackendReproducesFlax(GoldenCase c) {
        ConvTranspose layer = ConvTranspose.builder(c.array("kernel")).bias(c.has("bias") ? c.array("bias") : null)
                .spec(ConvTransposeReference.spec(c)).backend(CpuBackend.instance()).build();
        Tensor y = layer.apply(c.array("x"));
        NaiveConv.Result reference = reference(c);
        Tolerance.assertClose(c.name(), reference.shape(), c.reference("y"), reference.absSums(), y.shape(),
                y.data());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("transposeCases")
    void functionalFormMatchesTheLayer(GoldenCase c) {
        Tensor bias = c.has("bias") ? c.array("bias") : null;
        ConvTransposeSpec spec = ConvTransposeReference.spec(c);
        Tensor layer = ConvTranspose.builder(c.array("kernel")).bias(bias).spec(spec)
                .backend(CpuBackend.instance()).build().apply(c.array("x"));
        Tensor functional = Convolution.convTranspose(c.array("x"), c.array("kernel"), bias, spec,
                CpuBackend.instance());
        assertArrayEquals(layer.shape(), functional.shape());
        assertArrayEquals(layer.data(), functional.data());
    }

    private static NaiveConv.Result reference(GoldenCase c) {
        double[] bias = c.has("bias") ? Tolerance.toDouble(c.array("bias").data()) : null;
        return ConvTransposeReference.of(c).forward(Tolerance.toDouble(c.array("x").data()),
                Tolerance.toDouble(c.array("kernel").data()), bias);
    }
}
