package org.convcl.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.stream.Stream;
import org.convcl.Activation;
import org.convcl.DType;
import org.convcl.HalfFloats;
import org.convcl.Tensor;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.testing.GoldenCase;
import org.convcl.testing.HalfGolden;
import org.convcl.testing.HalfLayerCase;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A float16 or bfloat16 Conv's host calls on the Java path (issue 26): the forward rounds the float32 input and
 * parameters to the type, runs the 16-bit host forward and returns its rounded output widened, within
 * {@link HalfGolden}'s bound of float64 on the rounded operands, with the layer's epilogue the backend's fused 16-bit
 * forward; and a Conv's and a ConvTranspose's forward and backward (epilogue, residual, mask, groups, CIRCULAR)
 * within the bounds of their recipes' rounding points ({@link HalfLayerCase}).
 */
class HalfLayerJavaPathTest {
    @ParameterizedTest(name = "{0}")
    @EnumSource(value = DType.class, names = {"FLOAT16", "BFLOAT16"})
    void theForwardRoundsTheOperandsAndStaysWithinTheBound(DType dtype) {
        GoldenCase c = golden("depthwise_groups");
        HalfGolden half = HalfGolden.of(c, dtype);
        try (Conv conv = Conv.builder(c.array("kernel")).bias(c.has("bias") ? c.array("bias") : null)
                .spec(c.spec()).dtype(dtype).backend(CpuBackend.instance()).build()) {
            assertEquals(dtype, conv.dtype());
            Tensor y = conv.apply(c.array("x"));
            // The values are the type's, so encoding them gives back the bits the 16-bit forward stored.
            half.assertWithinBound("Conv.apply on the Java path", HalfFloats.encode(dtype, y.data()));
        }
    }

    static Stream<HalfLayerCase> layers() {
        return Stream.of(
                HalfLayerCase.conv("grad_conv2d_basic", DType.FLOAT16, true, false),
                HalfLayerCase.conv("grad_conv2d_basic", DType.BFLOAT16, false, true),
                HalfLayerCase.conv("grad_circular", DType.BFLOAT16, false, false),
                HalfLayerCase.conv("grad_conv1d_input_dilation_groups", DType.FLOAT16, false, true),
                HalfLayerCase.conv("grad_conv1d_input_dilation_groups", DType.BFLOAT16, true, false),
                HalfLayerCase.transpose("transpose_dilated_explicit", DType.FLOAT16, true),
                HalfLayerCase.transpose("random_transpose_07_2d", DType.BFLOAT16, false),
                HalfLayerCase.transpose("random_transpose_03_2d", DType.FLOAT16, false),
                HalfLayerCase.transpose("random_transpose_03_2d", DType.BFLOAT16, true));
    }

    /**
     * The forward and the whole backward pass of a 16-bit Conv or ConvTranspose (grouped, masked, CIRCULAR, with an
     * epilogue and a residual) run on the Java path, within the bounds of float64 on the rounded operands that the
     * recipes' rounding points give ({@link HalfLayerCase}).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("layers")
    void forwardAndBackwardStayWithinTheBoundsOfFloat64(HalfLayerCase layer) {
        layer.assertWithinBounds("the Java path", layer.run(CpuBackend.instance()));
    }

    /**
     * A 16-bit layer's epilogue and residual on the Java path are the backend's fused 16-bit forward on the rounded
     * operands (whose semantics HalfEpilogueJavaPathTest checks against float32 rounded once): bit for bit.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(value = DType.class, names = {"FLOAT16", "BFLOAT16"})
    void theEpilogueAndResidualAreTheBackendsFusedSixteenBitForward(DType dtype) {
        GoldenCase c = golden("depthwise_groups");
        Tensor kernel = c.array("kernel");
        Tensor x = c.array("x");
        int channels = kernel.shape()[kernel.rank() - 1];
        java.util.Random random = new java.util.Random(26);
        float[] scale = new float[channels];
        float[] shift = new float[channels];
        for (int i = 0; i < channels; i++) {
            scale[i] = random.nextFloat() * 2 - 1;
            shift[i] = random.nextFloat() * 2 - 1;
        }
        try (Conv conv = Conv.builder(kernel).spec(c.spec()).scale(Tensor.of(scale, channels))
                .shift(Tensor.of(shift, channels)).activation(Activation.leakyRelu(0.25f)).dtype(dtype)
                .backend(CpuBackend.instance()).build()) {
            Tensor plain = Conv.builder(kernel).spec(c.spec()).backend(CpuBackend.instance()).build().apply(x);
            float[] residualValues = new float[plain.data().length];
            for (int i = 0; i < residualValues.length; i++) {
                residualValues[i] = random.nextFloat() * 4 - 2;
            }
            Tensor residual = Tensor.of(residualValues, plain.shape());
            Tensor y = conv.apply(x, residual);

            org.convcl.ConvGeometry g = c.spec().resolve(x.shape(), kernel.shape());
            short[] expected = new short[residualValues.length];
            CpuBackend.instance().forward(g, dtype, HalfFloats.encode(dtype, x.data()),
                    HalfFloats.encode(dtype, kernel.data()), null,
                    new org.convcl.Epilogue<>(Activation.leakyRelu(0.25f), scale, shift, null),
                    HalfFloats.encode(dtype, residualValues), expected);
            assertArrayEquals(expected, HalfFloats.encode(dtype, y.data()));
        }
    }

    private static GoldenCase golden(String name) {
        return GoldenCase.all().stream().filter(g -> g.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError(name + " is no golden case"));
    }
}
