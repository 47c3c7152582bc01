package org.convcl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.testing.HalfBound;
import org.convcl.testing.NaivePool;
import org.convcl.testing.RandomTensors;
import org.convcl.testing.Tolerance;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Pooling's forward and input gradient on float16 and bfloat16 host bits on the Java path (issue 26), against float64
 * ({@link NaivePool}) on the rounded input: max and min store one of their input values, exactly the reference;
 * average pooling is a float32 sum of at most a window's values, a division and one rounding, within
 * {@link HalfBound}'s bound with K the window's size plus the division, as is the gradient (float32 sums of the
 * cotangent over the windows holding an element). Every result is also the float32 form's on the decoded operands,
 * rounded, bit for bit. One case is large enough to be cut into several tasks. The gradient is that bit for bit
 * on inputs full of ties too (signed zeros, infinities and NaN among them), where MAX and MIN pick an element.
 */
class HalfPoolJavaPathTest {

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of(PoolOp.MAX, new int[] {2, 5, 6, 3}, new int[] {3, 3}, new int[] {1, 2}, Padding.SAME,
                        true, DType.FLOAT16),
                Arguments.of(PoolOp.MAX, new int[] {1, 4, 4, 2}, new int[] {2, 2}, new int[] {2, 2}, Padding.VALID,
                        true, DType.BFLOAT16),
                Arguments.of(PoolOp.MIN, new int[] {3, 9, 2}, new int[] {3}, new int[] {1}, Padding.SAME, true,
                        DType.FLOAT16),
                Arguments.of(PoolOp.AVG, new int[] {2, 5, 6, 3}, new int[] {3, 3}, new int[] {1, 1}, Padding.SAME,
                        false, DType.BFLOAT16),
                Arguments.of(PoolOp.AVG, new int[] {2, 7, 4}, new int[] {2}, new int[] {1}, Padding.SAME, true,
                        DType.FLOAT16),
                // Work enough for several tasks.
                Arguments.of(PoolOp.AVG, new int[] {2, 40, 40, 16}, new int[] {3, 3}, new int[] {1, 1},
                        Padding.SAME, false, DType.FLOAT16));
    }

    @ParameterizedTest(name = "{0} window {2} on {1} ({6})")
    @MethodSource("cases")
    void forwardAndGradientMatchFloat64OnTheRoundedOperands(PoolOp op, int[] shape, int[] window, int[] strides,
            Padding padding, boolean countIncludePad, DType dtype) {
        PoolGeometry g = PoolSpec.builder().window(window).strides(strides).padding(padding)
                .countIncludePad(countIncludePad).build().resolve(shape);
        NaivePool naive = new NaivePool(op, shape, window, strides, padding, countIncludePad);
        assertArrayEquals(naive.outputShape(), g.outputShape(), "the reference's output shape");
        SplittableRandom random = new SplittableRandom(op.ordinal() * 7 + dtype.ordinal());
        Tensor x = HalfBound.rounded(RandomTensors.uniform(random, shape), dtype);
        short[] y = new short[(int) Tensor.elementCount(g.outputShape())];
        CpuBackend.instance().poolForward(op, g, dtype, HalfFloats.encode(dtype, x.data()), y);

        double[] xd = Tolerance.toDouble(x.data());
        double[] expected = naive.forward(xd);
        String what = op + " pooling " + g;
        if (op == PoolOp.AVG) {
            HalfBound.assertWithin(what, dtype, Tensor.elementCount(window) + 1, false, expected,
                    naive.forward(abs(xd)), HalfFloats.decode(dtype, y));
        } else {
            float[] exact = new float[expected.length];
            for (int i = 0; i < exact.length; i++) {
                exact[i] = (float) expected[i];
            }
            assertArrayEquals(exact, HalfFloats.decode(dtype, y), what + ": an input value, exactly");
        }
        float[] wide = new float[y.length];
        CpuBackend.instance().poolForward(op, g, x.data(), wide);
        assertArrayEquals(HalfFloats.encode(dtype, wide), y, what + ": the float32 pooling, rounded");

        Tensor dy = HalfBound.rounded(RandomTensors.uniform(random, g.outputShape()), dtype);
        short[] dx = new short[x.size()];
        CpuBackend.instance().poolBackward(op, g, dtype, HalfFloats.encode(dtype, x.data()),
                HalfFloats.encode(dtype, dy.data()), dx);
        double[] dyd = Tolerance.toDouble(dy.data());
        // The windows holding an element are at most the window's size (stride 1); avg divides each term.
        HalfBound.assertWithin(what + " gradient", dtype, Tensor.elementCount(window) + 1, false,
                naive.gradient(xd, dyd), naive.gradient(xd, abs(dyd)), HalfFloats.decode(dtype, dx));
        float[] wideGradient = new float[x.size()];
        CpuBackend.instance().poolBackward(op, g, x.data(), dy.data(), wideGradient);
        assertArrayEquals(HalfFloats.encode(dtype, wideGradient), dx, what + ": the float32 gradient, rounded");
    }

    static Stream<Arguments> tiedCases() {
        return Stream.of(
                Arguments.of(PoolOp.MAX, new int[] {2, 5, 6, 3}, new int[] {3, 3}, new int[] {1, 1}, Padding.SAME,
                        true, DType.FLOAT16),
                Arguments.of(PoolOp.MAX, new int[] {1, 7, 5}, new int[] {4}, new int[] {2}, Padding.SAME, true,
                        DType.BFLOAT16),
                Arguments.of(PoolOp.MIN, new int[] {2, 4, 5, 2}, new int[] {2, 3}, new int[] {1, 2}, Padding.SAME,
                        true, DType.BFLOAT16),
                Arguments.of(PoolOp.MIN, new int[] {3, 9, 2}, new int[] {3}, new int[] {1}, Padding.VALID, true,
                        DType.FLOAT16),
                Arguments.of(PoolOp.AVG, new int[] {2, 5, 6, 3}, new int[] {3, 2}, new int[] {1, 1}, Padding.SAME,
                        false, DType.FLOAT16),
                Arguments.of(PoolOp.AVG, new int[] {1, 6, 4}, new int[] {3}, new int[] {1}, Padding.SAME, true,
                        DType.BFLOAT16),
                // Work enough for tasks over (batch entry, channel block) pairs, the blocks 19 and 18 channels wide.
                Arguments.of(PoolOp.MAX, new int[] {2, 12, 12, 37}, new int[] {3, 3}, new int[] {1, 1},
                        Padding.SAME, true, DType.BFLOAT16),
                Arguments.of(PoolOp.AVG, new int[] {2, 12, 12, 37}, new int[] {3, 3}, new int[] {1, 1},
                        Padding.SAME, false, DType.FLOAT16));
    }

    /**
     * The 16-bit gradient, converted inside its tasks, is the float32 gradient on the decoded operands rounded once
     * (the whole-array form it replaced), bit for bit: inputs drawn from a few values, so that most windows hold
     * ties (MAX and MIN send the gradient to the element jax's reduce_window picks), with signed zeros,
     * infinities and NaN among them; overlapping windows and padding.
     */
    @ParameterizedTest(name = "{0} window {2} on {1} ({6})")
    @MethodSource("tiedCases")
    void theGradientIsTheFloat32GradientOnTheDecodedOperandsRounded(PoolOp op, int[] shape, int[] window,
            int[] strides, Padding padding, boolean countIncludePad, DType dtype) {
        PoolGeometry g = PoolSpec.builder().window(window).strides(strides).padding(padding)
                .countIncludePad(countIncludePad).build().resolve(shape);
        SplittableRandom random = new SplittableRandom(31 * op.ordinal() + shape.length + dtype.ordinal());
        float[] tied = {-1f, 0f, -0f, 1f, 2f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN};
        short[] input = new short[(int) Tensor.elementCount(shape)];
        for (int i = 0; i < input.length; i++) {
            // Mostly finite, so that most windows tie among finite values rather than all being NaN.
            input[i] = HalfFloats.encode(dtype, tied[random.nextInt(random.nextInt(20) == 0 ? tied.length : 5)]);
        }
        // Half the cotangents +-2^12, which cancel in many sums after the small ones' low bits were rounded away
        // beside them: the order of the terms shows in the rounded bits.
        float[] cotangent = RandomTensors.uniform(random, g.outputShape()).data();
        for (int i = 0; i < cotangent.length; i++) {
            cotangent[i] = random.nextBoolean() ? Math.copySign(4096f, cotangent[i]) : cotangent[i] / 8;
        }
        short[] outputGradient = HalfFloats.encode(dtype, cotangent);
        short[] inputGradient = new short[input.length];
        CpuBackend.instance().poolBackward(op, g, dtype, input, outputGradient, inputGradient);

        float[] wide = new float[input.length];
        CpuBackend.instance().poolBackward(op, g, HalfFloats.decode(dtype, input),
                HalfFloats.decode(dtype, outputGradient), wide);
        assertArrayEquals(HalfFloats.encode(dtype, wide), inputGradient,
                op + " pooling " + g + ": the float32 gradient on the decoded operands, rounded once");
    }

    @Test
    void refusesFloat32AndWrongLengths() {
        PoolGeometry g = PoolSpec.builder().window(2).build().resolve(new int[] {1, 4, 2});
        short[] input = new short[8];
        short[] output = new short[(int) Tensor.elementCount(g.outputShape())];
        IllegalArgumentException dtype = assertThrows(IllegalArgumentException.class,
                () -> CpuBackend.instance().poolForward(PoolOp.MAX, g, DType.FLOAT32, input, output));
        assertTrue(dtype.getMessage().contains("dtype: got float32"), dtype.getMessage());
        IllegalArgumentException length = assertThrows(IllegalArgumentException.class,
                () -> CpuBackend.instance().poolForward(PoolOp.MAX, g, DType.FLOAT16, new short[7], output));
        assertTrue(length.getMessage().contains("input: has 7 elements"), length.getMessage());
        IllegalArgumentException backward = assertThrows(IllegalArgumentException.class,
                () -> CpuBackend.instance().poolBackward(PoolOp.MAX, g, DType.BFLOAT16, input, new short[3],
                        new short[8]));
        assertTrue(backward.getMessage().contains("outputGradient: has 3 elements"), backward.getMessage());
    }

    private static double[] abs(double[] values) {
        double[] magnitudes = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            magnitudes[i] = Math.abs(values[i]);
        }
        return magnitudes;
    }
}
