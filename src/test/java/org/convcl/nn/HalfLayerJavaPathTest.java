package org.convcl.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.convcl.Activation;
import org.convcl.DType;
import org.convcl.HalfFloats;
import org.convcl.Tensor;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.testing.GoldenCase;
import org.convcl.testing.HalfGolden;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A float16 or bfloat16 Conv's host calls on the Java path (issue 26): the forward rounds the float32 input and
 * parameters to the type, runs the 16-bit host forward and returns its rounded output widened, within
 * {@link HalfGolden}'s bound of float64 on the rounded operands, with the layer's epilogue the backend's fused 16-bit
 * forward; what it lacks (the backward pass) is refused naming the layer, its type and what to do instead.
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

    @Test
    void whatTheSixteenBitHostForwardLacksIsRefused() {
        GoldenCase c = golden("depthwise_groups");
        try (Conv plain = Conv.builder(c.array("kernel")).spec(c.spec()).dtype(DType.FLOAT16)
                .backend(CpuBackend.instance()).build()) {
            Tensor x = c.array("x");
            String backward = assertThrows(IllegalArgumentException.class,
                    () -> plain.backward(x, plain.apply(x))).getMessage();
            assertTrue(backward.startsWith("backward: ") && backward.contains("computes in float16")
                    && backward.contains("no float16 backward pass"), backward);
        }
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
