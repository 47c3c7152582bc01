package org.convcl.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.convcl.Layout;
import org.convcl.Padding;
import org.convcl.PoolGeometry;
import org.convcl.PoolOp;
import org.convcl.PoolSpec;
import org.convcl.Tensor;
import org.convcl.backend.ConvBackend;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.nn.Pool;
import org.convcl.nn.Pooling;
import org.convcl.testing.ChannelsFirstData;
import org.convcl.testing.NaivePool;
import org.convcl.testing.OpenClBackendPerClass;
import org.convcl.testing.Tolerance;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Pooling in kernels ({@code kernels/pooling.cl}) against the Java path ({@code HostPooling}, bit for bit: the
 * kernels compare and add in its order and divide correctly rounded; large cases run the Java path on its
 * CPU workers) and against {@link NaivePool} (an
 * independent float64 reference): random cases over ranks 1-3, 0-2 batch dims, strides, every padding kind and
 * both {@code countIncludePad}, with ties, NaN and infinities; host arrays, device tensors, and the {@link Pool}
 * layer's device forms in both layouts; global average pooling; refusals.
 */
class PoolOpenClTest {
    @RegisterExtension
    static final OpenClBackendPerClass OPENCL = new OpenClBackendPerClass();

    private static final ConvBackend CPU = CpuBackend.sequential();
    private static final float[] SPECIALS = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};

    /** One random pooling: its spec, the channels-last input shape, the reference and the values' kind. */
    private record Case(PoolOp op, PoolSpec spec, int[] shape, NaivePool reference, Values values) {
        PoolGeometry geometry() {
            return spec.resolve(shape);
        }

        String describe(int index) {
            return "case " + index + " " + op + " " + spec + " " + Arrays.toString(shape) + " " + values;
        }
    }

    /** Random floats; few levels (many ties); or random floats with NaN and infinities among them. */
    private enum Values {
        RANDOM, TIED, SPECIAL
    }

    private static Case randomCase(SplittableRandom random) {
        int rank = 1 + random.nextInt(3);
        int batchDims = random.nextInt(3);
        int[] shape = new int[batchDims + rank + 1];
        for (int d = 0; d < batchDims; d++) {
            shape[d] = 1 + random.nextInt(2);
        }
        int[] in = new int[rank];
        for (int d = 0; d < rank; d++) {
            in[d] = 1 + random.nextInt(rank == 3 ? 4 : 7);
            shape[batchDims + d] = in[d];
        }
        shape[shape.length - 1] = 1 + random.nextInt(3);
        int[] strides = new int[rank];
        int[] lo = new int[rank];
        int[] hi = new int[rank];
        for (int d = 0; d < rank; d++) {
            strides[d] = 1 + random.nextInt(3);
            lo[d] = random.nextInt(3);
            hi[d] = random.nextInt(3);
        }
        int kind = random.nextInt(4);
        Padding padding = switch (kind) {
            case 0 -> Padding.VALID;
            case 1 -> Padding.SAME;
            case 2 -> Padding.of(lo[0]);
            default -> Padding.pairs(pairs(lo, hi));
        };
        int[] window = new int[rank];
        for (int d = 0; d < rank; d++) {
            int padded = switch (kind) {
                case 0 -> in[d];
                case 1 -> in[d] + 2; // SAME pads up to the window
                case 2 -> in[d] + 2 * lo[0];
                default -> in[d] + lo[d] + hi[d];
            };
            window[d] = 1 + random.nextInt(padded);
        }
        PoolOp op = PoolOp.values()[random.nextInt(3)];
        boolean countIncludePad = random.nextBoolean();
        PoolSpec spec = PoolSpec.builder().window(window).strides(strides).padding(padding)
                .countIncludePad(countIncludePad).build();
        return new Case(op, spec, shape, new NaivePool(op, shape, window, strides, padding, countIncludePad),
                Values.values()[random.nextInt(3)]);
    }

    private static int[][] pairs(int[] lo, int[] hi) {
        int[][] pairs = new int[lo.length][];
        for (int d = 0; d < lo.length; d++) {
            pairs[d] = new int[] {lo[d], hi[d]};
        }
        return pairs;
    }

    private static float[] values(SplittableRandom random, int[] shape, Values kind) {
        float[] values = new float[(int) Tensor.elementCount(shape)];
        for (int i = 0; i < values.length; i++) {
            values[i] = switch (kind) {
                case TIED -> random.nextInt(3) - 1f;
                case SPECIAL -> random.nextInt(4) == 0 ? SPECIALS[random.nextInt(SPECIALS.length)]
                        : (float) random.nextDouble(-1, 1);
                case RANDOM -> (float) random.nextDouble(-1, 1);
            };
        }
        return values;
    }

    private static float[] random(SplittableRandom random, int[] shape) {
        return values(random, shape, Values.RANDOM);
    }

    @Test
    void randomPoolingsMatchTheJavaPathBitForBitAndTheReference() {
        OpenClBackend backend = OPENCL.backend();
        SplittableRandom random = new SplittableRandom(2025);
        for (int i = 0; i < 120; i++) {
            Case c = randomCase(random);
            String what = c.describe(i);
            PoolGeometry g = c.geometry();
            float[] x = values(random, c.shape, c.values);
            float[] dy = random(random, g.outputShape());

            float[] expected = new float[(int) Tensor.elementCount(g.outputShape())];
            CPU.poolForward(c.op, g, x, expected);
            float[] y = new float[expected.length];
            backend.poolForward(c.op, g, x, y);
            assertArrayEquals(expected, y, what + ": host-array forward");
            assertClose(c.reference.forward(Tolerance.toDouble(x)), y, what + ": forward against the reference");

            float[] expectedDx = new float[x.length];
            CPU.poolBackward(c.op, g, x, dy, expectedDx);
            float[] dx = new float[x.length];
            Arrays.fill(dx, Float.NaN); // overwritten, not added to
            backend.poolBackward(c.op, g, x, dy, dx);
            assertArrayEquals(expectedDx, dx, what + ": host-array gradient");
            assertClose(c.reference.gradient(Tolerance.toDouble(x), Tolerance.toDouble(dy)), dx,
                    what + ": gradient against the reference");

            try (DeviceTensor deviceX = backend.upload(Tensor.of(x, c.shape));
                    DeviceTensor deviceDy = backend.upload(Tensor.of(dy, g.outputShape()));
                    DeviceTensor deviceY = backend.allocate(g.outputShape());
                    DeviceTensor deviceDx = backend.allocate(c.shape)) {
                backend.poolForward(c.op, g, deviceX, deviceY);
                backend.poolBackward(c.op, g, deviceX, deviceDy, deviceDx);
                assertArrayEquals(expected, deviceY.download().data(), what + ": device forward");
                assertArrayEquals(expectedDx, deviceDx.download().data(), what + ": device gradient");
            }
        }
    }

    /**
     * Poolings large enough for the Java path to split over its CPU workers (output ranges forward, batch entries
     * and channel blocks backward) give the kernels' bits, which follow the one-thread order of operations.
     */
    @Test
    void largePoolingsOnCpuWorkersGiveTheKernelsBits() {
        OpenClBackend backend = OPENCL.backend();
        SplittableRandom random = new SplittableRandom(31);
        PoolSpec[] specs = {
            PoolSpec.builder().window(3, 3).strides(2).padding(Padding.SAME).build(),
            PoolSpec.builder().window(4, 3).strides(1, 2).padding(Padding.pairs(new int[][] {{2, 1}, {0, 3}}))
                    .countIncludePad(false).build(),
        };
        int[][] shapes = {{3, 24, 20, 40}, {1, 31, 17, 33}};
        for (int i = 0; i < specs.length; i++) {
            PoolGeometry g = specs[i].resolve(shapes[i]);
            for (PoolOp op : PoolOp.values()) {
                for (Values kind : Values.values()) {
                    String what = op + " " + g + " " + kind;
                    float[] x = values(random, shapes[i], kind);
                    float[] dy = random(random, g.outputShape());
                    float[] expected = new float[dy.length];
                    float[] y = new float[dy.length];
                    CPU.poolForward(op, g, x, expected);
                    backend.poolForward(op, g, x, y);
                    assertArrayEquals(expected, y, what);
                    float[] expectedDx = new float[x.length];
                    float[] dx = new float[x.length];
                    CPU.poolBackward(op, g, x, dy, expectedDx);
                    backend.poolBackward(op, g, x, dy, dx);
                    assertArrayEquals(expectedDx, dx, what + " gradient");
                    NaivePool reference = new NaivePool(op, shapes[i], specs[i].window(), specs[i].strides(),
                            specs[i].padding(), specs[i].countIncludePad());
                    assertClose(reference.gradient(Tolerance.toDouble(x), Tolerance.toDouble(dy)), dx,
                            what + " gradient against the reference");
                }
            }
        }
    }

    /** The layer's device forms, both layouts, give its host forms' bits on the CPU backend. */
    @Test
    void layerDeviceFormsMatchTheCpuLayerInBothLayouts() {
        OpenClBackend backend = OPENCL.backend();
        SplittableRandom random = new SplittableRandom(77);
        for (int i = 0; i < 24; i++) {
            Case c = randomCase(random);
            Layout layout = i % 2 == 0 ? Layout.CHANNELS_FIRST : Layout.CHANNELS_LAST;
            String what = c.describe(i) + " " + layout;
            Tensor x = inLayout(Tensor.of(values(random, c.shape, c.values), c.shape), c, layout);
            // The layer's backend is the CPU: device tensors run where they live all the same.
            Pool layer = Pool.builder(c.op, c.spec).layout(layout).backend(CPU).build();
            Pool onCpu = layer;
            Tensor expected = onCpu.apply(x);
            Tensor dy = Tensor.of(random(random, expected.shape()), expected.shape());
            Tensor expectedDx = onCpu.backward(x, dy);
            try (DeviceTensor deviceX = backend.upload(x); DeviceTensor deviceDy = backend.upload(dy);
                    DeviceTensor y = layer.apply(deviceX); DeviceTensor into = backend.allocate(expected.shape());
                    DeviceTensor dx = layer.backward(deviceX, deviceDy)) {
                layer.apply(deviceX, into);
                assertArrayEquals(expected.shape(), y.shape(), what);
                assertArrayEquals(expected.data(), y.download().data(), what + ": apply");
                assertArrayEquals(expected.data(), into.download().data(), what + ": apply into");
                assertArrayEquals(x.shape(), dx.shape(), what);
                assertArrayEquals(expectedDx.data(), dx.download().data(), what + ": backward");
            }
            // Host tensors on an OpenCL layer run the kernels and give the same bits.
            Pool onOpenCl = Pool.builder(c.op, c.spec).layout(layout).backend(backend).build();
            assertArrayEquals(expected.data(), onOpenCl.apply(x).data(), what + ": host apply on OpenCL");
            assertArrayEquals(expectedDx.data(), onOpenCl.backward(x, dy).data(), what + ": host backward on OpenCL");
        }
    }

    private static Tensor inLayout(Tensor channelsLast, Case c, Layout layout) {
        return layout == Layout.CHANNELS_LAST ? channelsLast
                : ChannelsFirstData.activations(channelsLast, c.spec.rank());
    }

    /** On constant windows every max and min gradient goes to the window's first element, as in XLA. */
    @Test
    void tiesGiveTheGradientToTheFirstElementOfEachWindow() {
        OpenClBackend backend = OPENCL.backend();
        for (PoolOp op : new PoolOp[] {PoolOp.MAX, PoolOp.MIN}) {
            PoolSpec spec = PoolSpec.builder().window(2, 3).strides(2, 1).padding(Padding.SAME).build();
            int[] shape = {2, 5, 6, 2};
            PoolGeometry g = spec.resolve(shape);
            float[] x = new float[(int) Tensor.elementCount(shape)];
            Arrays.fill(x, 3f);
            float[] dy = new float[(int) Tensor.elementCount(g.outputShape())];
            Arrays.fill(dy, 1f);
            float[] dx = new float[x.length];
            backend.poolBackward(op, g, x, dy, dx);
            NaivePool reference = new NaivePool(op, shape, spec.window(), spec.strides(), spec.padding(), true);
            assertClose(reference.gradient(Tolerance.toDouble(x), Tolerance.toDouble(dy)), dx, op + " on ties");
            float[] expected = new float[x.length];
            CPU.poolBackward(op, g, x, dy, expected);
            assertArrayEquals(expected, dx, op + " on ties, against the Java path");
        }
        // 1 >= NaN is false: the choice moves onto NaN; NaN >= 0 is false: it moves on to the last element.
        PoolGeometry g = PoolSpec.builder().window(3).build().resolve(new int[] {3, 1});
        float[] x = {1f, Float.NaN, 0f};
        float[] y = new float[1];
        backend.poolForward(PoolOp.MAX, g, x, y);
        assertTrue(Float.isNaN(y[0]), "NaN propagates through max");
        float[] dx = new float[3];
        backend.poolBackward(PoolOp.MAX, g, x, new float[] {1f}, dx);
        NaivePool reference = new NaivePool(PoolOp.MAX, new int[] {3, 1}, new int[] {3}, new int[] {1},
                Padding.VALID, true);
        assertClose(reference.gradient(Tolerance.toDouble(x), new double[] {1}), dx, "NaN window gradient");
    }

    /** A window over the whole spatial extent: one output per channel, the mean; its gradient spreads dy evenly. */
    @Test
    void globalAveragePoolingOnTheDevice() {
        OpenClBackend backend = OPENCL.backend();
        SplittableRandom random = new SplittableRandom(9);
        int[] shape = {2, 7, 9, 5};
        Tensor x = Tensor.of(random(random, shape), shape);
        PoolSpec global = PoolSpec.builder().window(7, 9).build();
        NaivePool reference = new NaivePool(PoolOp.AVG, shape, new int[] {7, 9}, new int[] {1, 1}, Padding.VALID,
                true);
        float[] dyValues = random(random, reference.outputShape());
        try (DeviceTensor deviceX = backend.upload(x); DeviceTensor y = Pooling.avgPool(deviceX, global);
                DeviceTensor dy = backend.upload(Tensor.of(dyValues, reference.outputShape()));
                DeviceTensor dx = Pool.builder(PoolOp.AVG, global).backend(backend).build().backward(deviceX, dy)) {
            assertArrayEquals(new int[] {2, 1, 1, 5}, y.shape());
            assertClose(reference.forward(Tolerance.toDouble(x.data())), y.download().data(), "global mean");
            assertClose(reference.gradient(Tolerance.toDouble(x.data()), Tolerance.toDouble(dyValues)),
                    dx.download().data(), "global mean gradient");
        }
        try (DeviceTensor deviceX = backend.upload(x); DeviceTensor max = Pooling.maxPool(deviceX, global);
                DeviceTensor min = Pooling.minPool(deviceX, global)) {
            assertArrayEquals(Pool.builder(PoolOp.MAX, global).backend(CPU).build().apply(x).data(),
                    max.download().data(), "global max");
            assertArrayEquals(Pool.builder(PoolOp.MIN, global).backend(CPU).build().apply(x).data(),
                    min.download().data(), "global min");
        }
    }

    /**
     * Empty operands: a spatial dim of size 0 with padding gives windows of padding alone (-inf, +inf, 0 or
     * 0/0 = NaN, as the Java path); a batch or channel count of 0 gives nothing to compute.
     */
    @Test
    void emptyInputsGiveTheJavaPathsValues() {
        OpenClBackend backend = OPENCL.backend();
        int[][] shapes = {{1, 0, 2}, {0, 4, 2}, {3, 4, 0}};
        for (int[] shape : shapes) {
            for (PoolOp op : PoolOp.values()) {
                for (boolean countIncludePad : new boolean[] {true, false}) {
                    PoolGeometry g = PoolSpec.builder().window(2).padding(Padding.of(1))
                            .countIncludePad(countIncludePad).build().resolve(shape);
                    String what = op + " " + g;
                    float[] expected = new float[(int) Tensor.elementCount(g.outputShape())];
                    CPU.poolForward(op, g, new float[0], expected);
                    float[] y = new float[expected.length];
                    backend.poolForward(op, g, new float[0], y);
                    assertArrayEquals(expected, y, what);
                    try (DeviceTensor x = backend.upload(Tensor.of(new float[0], shape));
                            DeviceTensor deviceY = backend.allocate(g.outputShape());
                            DeviceTensor dx = backend.allocate(shape)) {
                        backend.poolForward(op, g, x, deviceY);
                        assertArrayEquals(expected, deviceY.download().data(), what + " on device tensors");
                        backend.poolBackward(op, g, x, deviceY, dx);
                        assertEquals(0, dx.download().size(), what);
                    }
                }
            }
        }
    }

    /** A window past the padded input, and operands of the wrong shape, are refused by name before any work. */
    @Test
    void refusesWindowsThatDoNotFitAndOperandsOfTheWrongShape() {
        OpenClBackend backend = OPENCL.backend();
        PoolSpec spec = PoolSpec.builder().window(3, 3).strides(2).build();
        try (DeviceTensor x = backend.upload(Tensor.zeros(1, 5, 5, 2));
                DeviceTensor small = backend.upload(Tensor.zeros(1, 2, 5, 2));
                DeviceTensor wrongOut = backend.allocate(1, 3, 3, 2);
                DeviceTensor dy = backend.allocate(1, 2, 2, 2)) {
            Pool pool = Pool.builder(PoolOp.MAX, spec).backend(CPU).build();
            IllegalArgumentException tooBig = assertThrows(IllegalArgumentException.class, () -> pool.apply(small));
            assertTrue(tooBig.getMessage().startsWith("window: size 3 in spatial dim 0"), tooBig.getMessage());

            PoolGeometry g = spec.resolve(x.shape());
            IllegalArgumentException output = assertThrows(IllegalArgumentException.class,
                    () -> backend.poolForward(PoolOp.MAX, g, x, wrongOut));
            assertTrue(output.getMessage().startsWith("output: shape [1, 3, 3, 2]"), output.getMessage());
            IllegalArgumentException layerOutput = assertThrows(IllegalArgumentException.class,
                    () -> pool.apply(x, wrongOut));
            assertTrue(layerOutput.getMessage().startsWith("output: shape [1, 3, 3, 2]"), layerOutput.getMessage());
            IllegalArgumentException input = assertThrows(IllegalArgumentException.class,
                    () -> backend.poolForward(PoolOp.MAX, g, small, dy));
            assertTrue(input.getMessage().startsWith("input: shape [1, 2, 5, 2]"), input.getMessage());
            IllegalArgumentException gradient = assertThrows(IllegalArgumentException.class,
                    () -> backend.poolBackward(PoolOp.AVG, g, x, wrongOut, small));
            assertTrue(gradient.getMessage().startsWith("outputGradient: shape [1, 3, 3, 2]"), gradient.getMessage());
            IllegalArgumentException layerGradient = assertThrows(IllegalArgumentException.class,
                    () -> pool.backward(x, wrongOut));
            assertTrue(layerGradient.getMessage().startsWith("dy: shape [1, 3, 3, 2]"), layerGradient.getMessage());
            IllegalArgumentException hostArray = assertThrows(IllegalArgumentException.class,
                    () -> backend.poolForward(PoolOp.MIN, g, new float[50], new float[7]));
            assertTrue(hostArray.getMessage().startsWith("output: has 7 elements"), hostArray.getMessage());
            IllegalArgumentException noOp = assertThrows(IllegalArgumentException.class,
                    () -> backend.poolForward(null, g, x, dy));
            assertTrue(noOp.getMessage().startsWith("op: got null"), noOp.getMessage());
        }
    }

    /** Host-array pooling runs over the caching allocator: after a warm-up it creates and keeps no buffer. */
    @Test
    void hostArrayPoolingReusesDeviceMemory() {
        OpenClBackend backend = OPENCL.backend();
        PoolGeometry g = PoolSpec.builder().window(3, 3).strides(2).padding(Padding.SAME).build()
                .resolve(new int[] {2, 9, 8, 3});
        SplittableRandom random = new SplittableRandom(4);
        float[] x = random(random, g.inputShape());
        float[] dy = random(random, g.outputShape());
        float[] y = new float[dy.length];
        float[] dx = new float[x.length];
        backend.poolForward(PoolOp.MAX, g, x, y);
        backend.poolBackward(PoolOp.MAX, g, x, dy, dx);
        long created = backend.buffersCreated();
        long inUse = backend.buffersInUse();
        for (int round = 0; round < 20; round++) {
            backend.poolForward(PoolOp.MAX, g, x, y);
            backend.poolBackward(PoolOp.MAX, g, x, dy, dx);
        }
        assertEquals(created, backend.buffersCreated(), "20 rounds of host-array pooling create no device buffer");
        assertEquals(inUse, backend.buffersInUse(), "and keep none");
    }

    private static void assertClose(double[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            if (Double.isNaN(expected[i]) || Double.isInfinite(expected[i])) {
                assertEquals(expected[i], (double) actual[i], what + ": element " + i);
            } else {
                assertEquals(expected[i], actual[i], 1e-5 * Math.max(1, Math.abs(expected[i])),
                        what + ": element " + i);
            }
        }
    }
}
