package org.convcl.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.convcl.DType;
import org.convcl.HalfFloats;
import org.convcl.Padding;
import org.convcl.PoolGeometry;
import org.convcl.PoolOp;
import org.convcl.PoolSpec;
import org.convcl.Tensor;
import org.convcl.testing.HalfBound;
import org.convcl.testing.NaivePool;
import org.convcl.testing.OpenClBackendPerClass;
import org.convcl.testing.RandomTensors;
import org.convcl.testing.Tolerance;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Pooling on float16 and bfloat16 device tensors (issue 26), forward and input gradient, against float64
 * ({@link NaivePool}) on the rounded input and cotangent. Max and min store one of their input values: exactly the
 * reference. Average pooling and the gradients (sums of the cotangent over the windows holding an element) are
 * float32 sums of at most a window's values, a division, and one rounding to the type: {@link HalfBound}'s bound
 * with K the window's size plus the division, over the same expression on magnitudes.
 */
class HalfPoolOpenClTest {
    @RegisterExtension
    static final OpenClBackendPerClass OPENCL = new OpenClBackendPerClass();

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
                        DType.FLOAT16));
    }

    @ParameterizedTest(name = "{0} window {3} on {1} ({6})")
    @MethodSource("cases")
    void forwardAndGradientMatchFloat64OnTheRoundedOperands(PoolOp op, int[] shape, int[] window, int[] strides,
            Padding padding, boolean countIncludePad, DType dtype) {
        PoolGeometry g = PoolSpec.builder().window(window).strides(strides).padding(padding)
                .countIncludePad(countIncludePad).build().resolve(shape);
        NaivePool naive = new NaivePool(op, shape, window, strides, padding, countIncludePad);
        assertArrayEquals(naive.outputShape(), g.outputShape(), "the reference's output shape");
        SplittableRandom random = new SplittableRandom(op.ordinal() * 7 + dtype.ordinal());
        Tensor x = HalfBound.rounded(RandomTensors.uniform(random, shape), dtype);
        Tensor dy = HalfBound.rounded(RandomTensors.uniform(random, g.outputShape()), dtype);
        OpenClBackend backend = OPENCL.backend();

        short[] y;
        short[] dx;
        try (DeviceTensor input = upload(backend, x, dtype); DeviceTensor cotangent = upload(backend, dy, dtype);
                DeviceTensor output = DeviceTensor.allocate(backend, dtype, g.outputShape());
                DeviceTensor gradient = DeviceTensor.allocate(backend, dtype, shape)) {
            backend.poolForward(op, g, input, output);
            backend.poolBackward(op, g, input, cotangent, gradient);
            y = output.downloadBits();
            dx = gradient.downloadBits();
        }

        double[] xd = Tolerance.toDouble(x.data());
        double[] dyd = Tolerance.toDouble(dy.data());
        double[] expected = naive.forward(xd);
        String what = op + " pooling " + g;
        long windowSize = Tensor.elementCount(window);
        if (op == PoolOp.AVG) {
            HalfBound.assertWithin(what, dtype, windowSize + 1, false, expected, naive.forward(abs(xd)),
                    HalfFloats.decode(dtype, y));
        } else {
            float[] exact = new float[expected.length];
            for (int i = 0; i < exact.length; i++) {
                exact[i] = (float) expected[i];
            }
            assertArrayEquals(exact, HalfFloats.decode(dtype, y), what + ": an input value, exactly");
        }
        // The windows holding an element are at most the window's size (stride 1); avg divides each term.
        HalfBound.assertWithin(what + " gradient", dtype, windowSize + 1, false, naive.gradient(xd, dyd),
                naive.gradient(xd, abs(dyd)), HalfFloats.decode(dtype, dx));
    }

    private static double[] abs(double[] values) {
        double[] magnitudes = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            magnitudes[i] = Math.abs(values[i]);
        }
        return magnitudes;
    }

    private static DeviceTensor upload(OpenClBackend backend, Tensor values, DType dtype) {
        return DeviceTensor.upload(backend, HalfFloats.encode(dtype, values.data()), dtype, values.shape());
    }
}
