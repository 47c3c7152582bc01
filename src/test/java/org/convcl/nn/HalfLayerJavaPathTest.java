package org.convcl.nn;

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
 * {@link HalfGolden}'s bound of float64 on the rounded operands; what that forward lacks (an epilogue, the backward
 * pass) is refused naming the layer, its type and what to do instead.
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
                .backend(CpuBackend.instance()).build();
                Conv withEpilogue = Conv.builder(c.array("kernel")).spec(c.spec()).activation(Activation.relu())
                        .dtype(DType.BFLOAT16).backend(CpuBackend.instance()).build()) {
            Tensor x = c.array("x");
            String backward = assertThrows(IllegalArgumentException.class,
                    () -> plain.backward(x, plain.apply(x))).getMessage();
            assertTrue(backward.startsWith("backward: ") && backward.contains("computes in float16")
                    && backward.contains("no float16 backward pass"), backward);
            String epilogue = assertThrows(IllegalArgumentException.class, () -> withEpilogue.apply(x)).getMessage();
            assertTrue(epilogue.startsWith("apply: ") && epilogue.contains("computes in bfloat16")
                    && epilogue.contains("does not run an epilogue"), epilogue);
        }
    }

    private static GoldenCase golden(String name) {
        return GoldenCase.all().stream().filter(g -> g.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError(name + " is no golden case"));
    }
}
