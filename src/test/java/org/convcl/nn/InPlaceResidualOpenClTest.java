package org.convcl.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.convcl.Tensor;
import org.convcl.opencl.DeviceTensor;
import org.convcl.opencl.OpenClBackend;
import org.convcl.testing.OpenClBackendPerClass;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The in-place residual add on OpenCL device tensors ({@code apply(x, r, r)}: the store writes over the residual's
 * own buffer): bit for bit the call into a tensor of its own on an upload of the same residual, for each kernel
 * that stores a layer's output (the GEMM, channels-last and through the channels-first moves, the general and
 * depthwise kernels, a 16-bit GEMM, the phased GEMM with the CIRCULAR fold that ends a transposed convolution).
 * Each case is a program PoCL compiles, so only those of {@link InPlaceResidualCases} whose kernels differ run here.
 */
@Timeout(300)
class InPlaceResidualOpenClTest {
    @RegisterExtension
    static final OpenClBackendPerClass OPENCL = new OpenClBackendPerClass();

    private static final Set<String> ON_DEVICE = Set.of("1x1 one chunk, a partial vector", "1x1 channels-first",
            "3x3 strided rows", "3x3 depthwise", "1x1 float16", "transposed, CIRCULAR fold");

    static List<InPlaceResidualCases.Case> cases() {
        return InPlaceResidualCases.all().stream().filter(c -> ON_DEVICE.contains(c.name())).toList();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void writingOverTheResidualEqualsWritingBesideIt(InPlaceResidualCases.Case c) {
        OpenClBackend device = OPENCL.backend();
        SplittableRandom random = new SplittableRandom(c.name().hashCode());
        try (InPlaceResidualCases.Layer layer = c.layer(device, random)) {
            Tensor x = InPlaceResidualCases.random(random, c.inputShape());
            int[] outputShape = layer.outputShape(x.shape());
            Tensor residual = InPlaceResidualCases.random(random, outputShape);
            try (DeviceTensor deviceX = DeviceTensor.upload(device, x, layer.dtype());
                    DeviceTensor besideResidual = DeviceTensor.upload(device, residual, layer.dtype());
                    DeviceTensor beside = DeviceTensor.allocate(device, layer.dtype(), outputShape);
                    DeviceTensor over = DeviceTensor.upload(device, residual, layer.dtype());
                    // A zero residual rather than none: the same program, where none would compile another.
                    DeviceTensor zeros = DeviceTensor.upload(device, Tensor.zeros(outputShape), layer.dtype());
                    DeviceTensor withZeros = DeviceTensor.allocate(device, layer.dtype(), outputShape)) {
                layer.apply(deviceX, besideResidual, beside);
                layer.apply(deviceX, over, over);
                layer.apply(deviceX, zeros, withZeros);
                float[] expected = beside.download().data();
                assertArrayEquals(expected, over.download().data(), c.name());
                assertFalse(Arrays.equals(expected, withZeros.download().data()),
                        c.name() + ": the residual counts");
            }
        }
    }

    @Test
    void refusesTheInputAsTheOutputEvenAsTheResidual() {
        OpenClBackend device = OPENCL.backend();
        SplittableRandom random = new SplittableRandom(7);
        // SAME padding, stride 1 and as many output channels as input ones: x itself has the output's shape.
        try (Conv conv = Conv.builder(InPlaceResidualCases.random(random, 1, 1, 4, 4)).backend(device).build();
                DeviceTensor x = DeviceTensor.upload(device, InPlaceResidualCases.random(random, 1, 3, 3, 4))) {
            float[] before = x.download().data();
            String message = assertThrows(IllegalArgumentException.class, () -> conv.apply(x, x, x)).getMessage();
            assertTrue(message.startsWith("out:") && message.contains("input x"), message);
            assertArrayEquals(before, x.download().data(), "refused before anything was written");
        }
    }
}
