package org.convcl.opencl;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;
import org.convcl.nn.Conv;
import org.convcl.Tensor;
import org.convcl.testing.GoldenCase;
import org.convcl.testing.NaiveConv;
import org.convcl.testing.OpenClBackendPerClass;
import org.convcl.testing.Reference;
import org.convcl.testing.Tolerance;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every forward golden case of flax nnx.Conv on the OpenCL backend (PoCL in CI), through host arrays and
 * through device tensors, refusals included.
 */
class GoldenOpenClTest {
    @RegisterExtension
    static final OpenClBackendPerClass OPENCL = new OpenClBackendPerClass();

    static Stream<GoldenCase> computedCases() {
        return GoldenCase.ofOp("conv").stream().filter(c -> c.error() == null);
    }

    static Stream<GoldenCase> refusedCases() {
        return GoldenCase.ofOp("conv").stream().filter(c -> c.error() != null);
    }

    private static Conv layer(GoldenCase c) {
        return Conv.builder(c.array("kernel")).bias(c.has("bias") ? c.array("bias") : null).spec(c.spec())
                .backend(OPENCL.backend()).build();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("computedCases")
    void hostArraysReproduceFlax(GoldenCase c) {
        Tensor y = layer(c).apply(c.array("x"));
        NaiveConv.Result reference = Reference.forward(c);
        Tolerance.assertClose(c.name(), reference.shape(), c.reference("y"), reference.absSums(), y.shape(), y.data());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("computedCases")
    void deviceTensorsReproduceFlax(GoldenCase c) {
        Conv layer = layer(c);
        Tensor y;
        try (DeviceTensor x = OPENCL.backend().upload(c.array("x")); DeviceTensor result = layer.apply(x)) {
            y = result.download();
        } finally {
            layer.releaseDeviceParameters();
        }
        NaiveConv.Result reference = Reference.forward(c);
        Tolerance.assertClose(c.name(), reference.shape(), c.reference("y"), reference.absSums(), y.shape(), y.data());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("refusedCases")
    void refusesWhatFlaxRefuses(GoldenCase c) {
        IllegalArgumentException refusal = assertThrows(IllegalArgumentException.class, () -> Conv
                .builder(Tensor.zeros(c.flaxKernelShape())).spec(c.spec()).backend(OPENCL.backend()).build()
                .apply(c.array("x")));
        assertTrue(refusal.getMessage().length() > 20, "a refusal explains itself: " + refusal.getMessage());
    }
}
