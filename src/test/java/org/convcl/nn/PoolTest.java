package org.convcl.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.convcl.ConvSpec;
import org.convcl.Layout;
import org.convcl.Padding;
import org.convcl.PoolOp;
import org.convcl.PoolSpec;
import org.convcl.Tensor;
import org.convcl.backend.ConvBackend;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.testing.ChannelsFirstData;
import org.convcl.testing.NaivePool;
import org.convcl.testing.Tolerance;
import org.junit.jupiter.api.Test;

/**
 * {@link Pool} against {@link NaivePool} (an independent float64 reference of flax's pooling): randomized forward
 * passes and gradients over ranks 1-3, 0-2 batch dims, every padding kind, strides, both {@code countIncludePad}
 * and both layouts; gradients also against finite differences of the reference and, for average pooling, against a
 * depthwise {@link Conv} with a box kernel; ties, NaN and infinities.
 */
class PoolTest {
    private static final ConvBackend CPU = CpuBackend.sequential();

    /** One random configuration: its spec, the channels-last input shape and the reference. */
    private record Case(PoolOp op, PoolSpec spec, int[] shape, Layout layout, NaivePool reference) {
    }

    private static Case randomCase(SplittableRandom random, boolean zeroPaddingOnly) {
        int rank = 1 + random.nextInt(3);
        int batchDims = random.nextInt(3);
        int[] shape = new int[batchDims + rank + 1];
        for (int d = 0; d < batchDims; d++) {
            shape[d] = 1 + random.nextInt(2);
        }
        int[] in = new int[rank];
        for (int d = 0; d < rank; d++) {
            in[d] = 1 + random.nextInt(rank == 3 ? 4 : 6);
            shape[batchDims + d] = in[d];
        }
        shape[shape.length - 1] = 1 + random.nextInt(3);
        int[] strides = new int[rank];
        for (int d = 0; d < rank; d++) {
            strides[d] = 1 + random.nextInt(3);
        }
        int kind = random.nextInt(4);
        int[] lo = new int[rank];
        int[] hi = new int[rank];
        Padding padding;
        switch (kind) {
            case 0 -> padding = Padding.VALID;
            case 1 -> padding = Padding.SAME;
            case 2 -> {
                int amount = random.nextInt(3);
                Arrays.fill(lo, amount);
                Arrays.fill(hi, amount);
                padding = Padding.of(amount);
            }
            default -> {
                for (int d = 0; d < rank; d++) {
                    lo[d] = random.nextInt(3);
                    hi[d] = random.nextInt(3);
                }
                padding = Padding.pairs(pairs(lo, hi));
            }
        }
        int[] window = new int[rank];
        for (int d = 0; d < rank; d++) {
            // SAME pads up to the window, so any window fits; otherwise it must fit the padded input.
            int limit = kind == 1 ? in[d] + 2 : in[d] + lo[d] + hi[d];
            window[d] = 1 + random.nextInt(limit);
        }
        PoolOp op = zeroPaddingOnly ? PoolOp.AVG : PoolOp.values()[random.nextInt(3)];
        boolean countIncludePad = zeroPaddingOnly || random.nextBoolean();
        PoolSpec.Builder spec = PoolSpec.builder().window(window).padding(padding).countIncludePad(countIncludePad);
        if (random.nextBoolean() || Arrays.stream(strides).distinct().count() > 1) {
            spec.strides(strides);
        } else {
            spec.strides(strides[0]);
        }
        Layout layout = random.nextBoolean() ? Layout.CHANNELS_LAST : Layout.CHANNELS_FIRST;
        return new Case(op, spec.build(), shape, layout,
                new NaivePool(op, shape, window, strides, padding, countIncludePad));
    }

    private static int[][] pairs(int[] lo, int[] hi) {
        int[][] pairs = new int[lo.length][];
        for (int d = 0; d < lo.length; d++) {
            pairs[d] = new int[] {lo[d], hi[d]};
        }
        return pairs;
    }

    private static Tensor inLayout(Tensor channelsLast, Case c) {
        return c.layout == Layout.CHANNELS_LAST ? channelsLast
                : ChannelsFirstData.activations(channelsLast, c.spec.rank());
    }

    private static double[] referenceInLayout(double[] values, int[] shape, Case c) {
        return c.layout == Layout.CHANNELS_LAST ? values : ChannelsFirstData.permute(values, shape,
                ChannelsFirstData.activationOrder(shape.length, c.spec.rank()));
    }

    private static Pool layer(Case c) {
        return Pool.builder(c.op, c.spec).layout(c.layout).backend(CPU).build();
    }

    /** Distinct values (gaps of 1/8, far above a finite difference's step): no ties for max and min. */
    private static Tensor distinctValues(SplittableRandom random, int[] shape) {
        float[] values = new float[(int) Tensor.elementCount(shape)];
        for (int i = 0; i < values.length; i++) {
            values[i] = (i - values.length / 2f) / 8f;
        }
        for (int i = values.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            float swap = values[i];
            values[i] = values[j];
            values[j] = swap;
        }
        return Tensor.of(values, shape);
    }

    private static Tensor randomTensor(SplittableRandom random, int[] shape) {
        float[] values = new float[(int) Tensor.elementCount(shape)];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextDouble(-1, 1);
        }
        return Tensor.of(values, shape);
    }

    private static void assertClose(double[] expected, float[] actual, double tolerance, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            if (Double.isNaN(expected[i]) || Double.isInfinite(expected[i])) {
                assertEquals(expected[i], (double) actual[i], what + ": element " + i);
            } else {
                assertEquals(expected[i], actual[i], tolerance * Math.max(1, Math.abs(expected[i])),
                        what + ": element " + i);
            }
        }
    }

    @Test
    void forwardAndGradientMatchTheReferenceOnRandomCases() {
        SplittableRandom random = new SplittableRandom(25);
        for (int i = 0; i < 300; i++) {
            Case c = randomCase(random, false);
            Tensor x = randomTensor(random, c.shape);
            Pool pool = layer(c);
            String what = "case " + i + " " + c.op + " " + c.spec + " " + Arrays.toString(c.shape) + " " + c.layout;
            Tensor y = pool.apply(inLayout(x, c));
            int[] outShape = c.reference.outputShape();
            assertArrayEquals(inLayout(Tensor.zeros(outShape), c).shape(), y.shape(), what);
            assertArrayEquals(y.shape(), pool.outputShape(inLayout(x, c).shape()), what);
            double[] expected = c.reference.forward(Tolerance.toDouble(x.data()));
            assertClose(referenceInLayout(expected, outShape, c), y.data(), 1e-5, what);

            Tensor dy = randomTensor(random, outShape);
            Tensor dx = pool.backward(inLayout(x, c), inLayout(dy, c));
            double[] expectedDx = c.reference.gradient(Tolerance.toDouble(x.data()), Tolerance.toDouble(dy.data()));
            assertClose(referenceInLayout(expectedDx, c.shape, c), dx.data(), 1e-5, what + " gradient");
        }
    }

    @Test
    void gradientsMatchFiniteDifferencesOfTheReference() {
        SplittableRandom random = new SplittableRandom(7);
        double step = 1e-3;
        for (int i = 0; i < 60; i++) {
            Case c = randomCase(random, false);
            Tensor x = distinctValues(random, c.shape);
            Tensor dy = randomTensor(random, c.reference.outputShape());
            float[] dx = layer(c).backward(inLayout(x, c), inLayout(dy, c)).data();
            double[] xd = Tolerance.toDouble(x.data());
            double[] dyd = Tolerance.toDouble(dy.data());
            double[] numeric = new double[xd.length];
            for (int k = 0; k < xd.length; k++) {
                double keep = xd[k];
                xd[k] = keep + step;
                double up = dot(c.reference.forward(xd), dyd);
                xd[k] = keep - step;
                double down = dot(c.reference.forward(xd), dyd);
                xd[k] = keep;
                numeric[k] = (up - down) / (2 * step);
            }
            assertClose(referenceInLayout(numeric, c.shape, c), dx, 1e-4,
                    "case " + i + " " + c.op + " " + c.spec + " " + Arrays.toString(c.shape));
        }
    }

    private static double dot(double[] a, double[] b) {
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            if (Double.isFinite(a[i])) {
                sum += a[i] * b[i];
            }
        }
        return sum;
    }

    /**
     * Average pooling with zero padding counted in the divisor is a depthwise convolution with a box kernel of
     * {@code 1/prod(window)}: its forward pass and input gradient, through convcl's own Conv.
     */
    @Test
    void averagePoolingIsADepthwiseBoxConvolution() {
        SplittableRandom random = new SplittableRandom(11);
        for (int i = 0; i < 60; i++) {
            Case c = randomCase(random, true);
            int[] window = c.spec.window();
            int channels = c.shape[c.shape.length - 1];
            int[] kernelShape = Arrays.copyOf(window, window.length + 2);
            kernelShape[window.length] = 1;
            kernelShape[window.length + 1] = channels;
            float[] box = new float[(int) Tensor.elementCount(kernelShape)];
            Arrays.fill(box, 1f / (float) Tensor.elementCount(window));
            ConvSpec conv = ConvSpec.builder().strides(c.spec.strides()).groups(channels)
                    .padding(Padding.pairs(pairs(c.reference.padLo(), c.reference.padHi()))).build();
            Tensor x = randomTensor(random, c.shape);
            Tensor dy = randomTensor(random, c.reference.outputShape());
            Pool pool = Pool.builder(PoolOp.AVG, c.spec).backend(CPU).build();
            String what = "case " + i + " " + c.spec + " " + Arrays.toString(c.shape);
            try (Conv boxConv = Conv.builder(Tensor.of(box, kernelShape)).spec(conv).backend(CPU).build()) {
                assertClose(Tolerance.toDouble(boxConv.apply(x).data()), pool.apply(x).data(), 1e-5, what);
                assertClose(Tolerance.toDouble(boxConv.backward(x, dy).dx().data()), pool.backward(x, dy).data(),
                        1e-5, what + " gradient");
            }
        }
    }

    /** On ties the first element of a window in row-major order takes the gradient, for max and for min. */
    @Test
    void tiedWindowsGiveTheGradientToTheirFirstElement() {
        for (PoolOp op : new PoolOp[] {PoolOp.MAX, PoolOp.MIN}) {
            int length = 7;
            int window = 3;
            Pool pool = Pool.builder(op, PoolSpec.builder().window(window).build()).backend(CPU).build();
            Tensor x = Tensor.of(filled(length, 2f), length, 1);
            int outputs = length - window + 1;
            Tensor dx = pool.backward(x, Tensor.of(filled(outputs, 1f), outputs, 1));
            for (int i = 0; i < length; i++) {
                assertEquals(i < outputs ? 1f : 0f, dx.data()[i], op + ": element " + i + " of " + dx);
            }
        }
        // Many ties in 2-d with strides and padding: against the reference's own scan.
        SplittableRandom random = new SplittableRandom(3);
        for (int i = 0; i < 100; i++) {
            Case c = randomCase(random, false);
            if (c.op == PoolOp.AVG) {
                continue;
            }
            float[] values = new float[(int) Tensor.elementCount(c.shape)];
            for (int k = 0; k < values.length; k++) {
                values[k] = random.nextInt(2);
            }
            Tensor x = Tensor.of(values, c.shape);
            Tensor dy = randomTensor(random, c.reference.outputShape());
            double[] expected = c.reference.gradient(Tolerance.toDouble(values), Tolerance.toDouble(dy.data()));
            assertClose(referenceInLayout(expected, c.shape, c),
                    layer(c).backward(inLayout(x, c), inLayout(dy, c)).data(), 1e-6, "case " + i);
        }
    }

    /** NaN propagates through max and min; the gradient follows XLA's select rule, where NaN compares false. */
    @Test
    void nanAndInfinitiesFollowJax() {
        Pool max = Pool.builder(PoolOp.MAX, PoolSpec.builder().window(3).build()).backend(CPU).build();
        Tensor x = Tensor.of(new float[] {1f, Float.NaN, 0f}, 3, 1);
        assertTrue(Float.isNaN(max.apply(x).data()[0]));
        // 1 >= NaN is false: the choice moves to NaN; NaN >= 0 is false: it moves to the last element.
        assertArrayEquals(new float[] {0f, 0f, 1f}, max.backward(x, Tensor.of(new float[] {1f}, 1, 1)).data());

        SplittableRandom random = new SplittableRandom(5);
        float[] specials = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};
        for (int i = 0; i < 200; i++) {
            Case c = randomCase(random, false);
            Tensor x2 = randomTensor(random, c.shape);
            for (int k = 0; k < x2.size(); k++) {
                if (random.nextInt(4) == 0) {
                    x2.data()[k] = specials[random.nextInt(specials.length)];
                }
            }
            Tensor dy = randomTensor(random, c.reference.outputShape());
            Pool pool = layer(c);
            String what = "case " + i + " " + c.op + " " + c.spec + " " + Arrays.toString(x2.data());
            double[] xd = Tolerance.toDouble(x2.data());
            assertClose(referenceInLayout(c.reference.forward(xd), c.reference.outputShape(), c),
                    pool.apply(inLayout(x2, c)).data(), 1e-5, what);
            assertClose(referenceInLayout(c.reference.gradient(xd, Tolerance.toDouble(dy.data())), c.shape, c),
                    pool.backward(inLayout(x2, c), inLayout(dy, c)).data(), 1e-5, what + " gradient");
        }
    }

    /** A global average pool is a window over the whole spatial extent: one output per channel, the mean. */
    @Test
    void globalAveragePoolingIsTheMeanOverSpace() {
        SplittableRandom random = new SplittableRandom(9);
        Tensor x = randomTensor(random, new int[] {2, 4, 5, 3});
        Tensor y = Pool.builder(PoolOp.AVG, PoolSpec.builder().window(4, 5).build()).backend(CPU).build().apply(x);
        assertArrayEquals(new int[] {2, 1, 1, 3}, y.shape());
        for (int b = 0; b < 2; b++) {
            for (int ch = 0; ch < 3; ch++) {
                double sum = 0;
                for (int s = 0; s < 20; s++) {
                    sum += x.data()[(b * 20 + s) * 3 + ch];
                }
                assertEquals(sum / 20, y.data()[b * 3 + ch], 1e-6);
            }
        }
    }

    /** The one-liners give the layer's values. */
    @Test
    void poolingOneLinersMatchTheLayer() {
        SplittableRandom random = new SplittableRandom(13);
        Tensor x = randomTensor(random, new int[] {2, 6, 6, 2});
        PoolSpec spec = PoolSpec.builder().window(3, 2).strides(2).padding(Padding.SAME).build();
        assertArrayEquals(layerOn(PoolOp.MAX, spec).apply(x).data(), Pooling.maxPool(x, spec).data());
        assertArrayEquals(layerOn(PoolOp.AVG, spec).apply(x).data(), Pooling.avgPool(x, spec).data());
        assertArrayEquals(layerOn(PoolOp.MIN, spec).apply(x).data(), Pooling.minPool(x, spec).data());
    }

    private static Pool layerOn(PoolOp op, PoolSpec spec) {
        return Pool.builder(op, spec).backend(CPU).build();
    }

    private static float[] filled(int n, float value) {
        float[] values = new float[n];
        Arrays.fill(values, value);
        return values;
    }
}
