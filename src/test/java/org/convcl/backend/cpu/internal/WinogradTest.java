package org.convcl.backend.cpu.internal;

import org.convcl.backend.cpu.CpuBackend;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.convcl.ConvGeometry;
import org.convcl.ConvSpec;
import org.convcl.Padding;
import org.convcl.testing.NaiveConv;
import org.convcl.testing.Reference;
import org.convcl.testing.Tolerance;
import org.junit.jupiter.api.Test;

/**
 * The Java path's Winograd tiles ({@link WinogradTiles}) and phases ({@link WinogradPhases}) against the float64
 * naive convolution: every geometry here is one they take (checked), over ranks 1 to 3, kernel dilations, strides
 * and input dilation, every padding mode including crops, tiles cut by the output's edge and by blocks, channel
 * tails and bias; and NaN or infinities, which the transforms would turn into other values, go the direct way (an
 * infinite weight: the whole call; an infinite input: the blocks that read it) and propagate as the reference says.
 */
class WinogradTest {
    /** Output channels of one register block: the tiles take multiples of it. */
    private static final int BLOCK = 4 * VectorConvKernel.lanes();
    private static final Padding[] NAMED = {Padding.SAME, Padding.VALID, Padding.CIRCULAR, Padding.REFLECT,
        Padding.CAUSAL, Padding.SAME_LOWER};

    @Test
    void tilesMatchTheReferenceOverEveryKnobTheyTake() {
        assertNotNull(CpuKernels.winograd(), "the tests run with the Vector API, so the tiles are in use");
        SplittableRandom random = new SplittableRandom(2026);
        int checked = 0;
        int smallestBlock = Integer.MAX_VALUE;
        for (int round = 0; round < 80; round++) {
            int rank = 1 + round % 3;
            int[] spatial = new int[rank];
            int[] dilation = new int[rank];
            for (int d = 0; d < rank; d++) {
                dilation[d] = 1 + random.nextInt(d == rank - 1 ? 4 : 3);
                // Mostly small, now and then long enough along the last dim for several blocks of tiles.
                int size = 1 + random.nextInt(rank == 3 ? 7 : 12);
                if (d == rank - 1 && random.nextInt(4) == 0) {
                    size = 60 + random.nextInt(100);
                }
                spatial[d] = Math.max(size, 2 * dilation[d] + 1); // VALID must leave an output
            }
            int cin = new int[] {8, 13, 16, 33}[random.nextInt(4)];
            int cout = BLOCK * (1 + random.nextInt(2));
            if (round % 10 == 9 && rank == 2) {
                // Channels enough that fewer tiles fit a block (12 or 8 instead of 32).
                cin = 400 + random.nextInt(100);
                cout = 4 * BLOCK;
                for (int d = 0; d < rank; d++) {
                    spatial[d] = Math.min(spatial[d], 10);
                }
            }
            int[] batch = random.nextBoolean() ? new int[] {1 + random.nextInt(2)} : new int[] {2, 1};
            Padding padding = padding(random, rank);
            ConvSpec spec = ConvSpec.builder().kernelDilation(dilation).padding(padding).build();
            int[] inputShape = concat(batch, spatial, cin);
            int[] kernelShape = kernelShape(rank, cin, cout);
            ConvGeometry g = spec.resolve(inputShape, kernelShape);
            if (g.outputSpatialSize() == 0) {
                continue;
            }
            WinogradTiles tiles = WinogradTiles.plan(g, BLOCK);
            assertNotNull(tiles, "the tiles take " + g);
            smallestBlock = Math.min(smallestBlock, tiles.tilesPerBlock);
            float[] x = uniform(random, g.batch() * g.inputSpatialSize() * cin);
            float[] w = uniform(random, kernelShape[0] * (int) Math.pow(3, rank - 1) * cin * cout);
            float[] bias = random.nextBoolean() ? uniform(random, cout) : null;
            NaiveConv.Result reference = Reference.forward(Tolerance.toDouble(x), inputShape, Tolerance.toDouble(w),
                    kernelShape, bias == null ? null : Tolerance.toDouble(bias), new int[] {1}, new int[] {1},
                    dilation, padding, 1);
            assertBothBackendsMatch(g, x, w, bias, reference, padding);
            checked++;
        }
        assertTrue(checked >= 70, "geometries checked: " + checked);
        assertTrue(smallestBlock <= 12, "some geometry has blocks of few tiles: " + smallestBlock);
    }

    @Test
    void phasesMatchTheReferenceForStridesInputDilationAndShortKernels() {
        assertNotNull(CpuKernels.winogradPhases(), "the tests run with the Vector API, so the phases are in use");
        SplittableRandom random = new SplittableRandom(4711);
        int checked = 0;
        for (int round = 0; round < 400 && checked < 60; round++) {
            int rank = 2 + random.nextInt(2);
            if (random.nextInt(6) == 0) {
                rank = 1;
            }
            int[] kernel = new int[rank];
            int[] strides = new int[rank];
            int[] inputDilation = new int[rank];
            int[] dilation = new int[rank];
            int[] spatial = new int[rank];
            for (int d = 0; d < rank; d++) {
                strides[d] = 1;
                inputDilation[d] = 1;
                dilation[d] = 1;
                switch (random.nextInt(3)) {
                    case 0 -> { // stride 1, a kernel of 2 or 3, any dilation
                        kernel[d] = 2 + random.nextInt(2);
                        dilation[d] = 1 + random.nextInt(3);
                    }
                    case 1 -> { // stride 2
                        kernel[d] = 2 + random.nextInt(5);
                        strides[d] = 2;
                    }
                    default -> { // input dilation 2
                        kernel[d] = 2 + random.nextInt(5);
                        inputDilation[d] = 2;
                    }
                }
                int size = 1 + random.nextInt(rank == 3 ? 6 : 10);
                if (d == rank - 1 && random.nextInt(4) == 0) {
                    size = 40 + random.nextInt(60);
                }
                spatial[d] = Math.max(size, (kernel[d] - 1) * dilation[d] + 1);
            }
            int cin = new int[] {8, 13, 16, 33}[random.nextInt(4)];
            int cout = BLOCK * (1 + random.nextInt(2));
            int[] batch = random.nextBoolean() ? new int[] {1 + random.nextInt(2)} : new int[] {2, 1};
            // Input dilation takes explicit padding only (as in jax); crops too.
            int[][] pairs = new int[rank][];
            boolean anyInputDilation = false;
            for (int d = 0; d < rank; d++) {
                pairs[d] = new int[] {random.nextInt(-1, kernel[d]), random.nextInt(-1, kernel[d])};
                anyInputDilation |= inputDilation[d] > 1;
            }
            Padding padding = anyInputDilation || random.nextBoolean() ? Padding.pairs(pairs) : padding(random, rank);
            ConvSpec spec = ConvSpec.builder().strides(strides).inputDilation(inputDilation).kernelDilation(dilation)
                    .padding(padding).build();
            int[] inputShape = concat(batch, spatial, cin);
            int[] kernelShape = concat(new int[0], kernel, cin);
            kernelShape = java.util.Arrays.copyOf(kernelShape, rank + 2);
            kernelShape[rank + 1] = cout;
            ConvGeometry g;
            try {
                g = spec.resolve(inputShape, kernelShape);
            } catch (IllegalArgumentException e) {
                continue; // e.g. a crop larger than the input
            }
            if (g.outputSpatialSize() == 0 || WinogradTiles.plan(g, BLOCK) != null
                    || WinogradPhases.plan(g, BLOCK) == null) {
                continue; // only geometries the phases take
            }
            int kernelSize = 1;
            for (int k : kernel) {
                kernelSize *= k;
            }
            float[] x = uniform(random, g.batch() * g.inputSpatialSize() * cin);
            float[] w = uniform(random, kernelSize * cin * cout);
            float[] bias = random.nextBoolean() ? uniform(random, cout) : null;
            NaiveConv.Result reference = Reference.forward(Tolerance.toDouble(x), inputShape, Tolerance.toDouble(w),
                    kernelShape, bias == null ? null : Tolerance.toDouble(bias), strides, inputDilation, dilation,
                    padding, 1);
            assertBothBackendsMatch(g, x, w, bias, reference, padding);
            checked++;
        }
        assertTrue(checked >= 60, "geometries checked: " + checked);
    }

    @Test
    void oneThreadRunsPlansOfEveryRankInTurn() {
        // One thread's buffers serve plan after plan: a 2-d plan with 16 points and 4 outputs per tile, then 3-d
        // ones with as many points and 8 outputs, then the 2-d one again. The sequential backend keeps all on
        // this thread.
        SplittableRandom random = new SplittableRandom(99);
        Object[][] cases = {
            {new int[] {2, 9, 13, 16}, new int[] {3, 5, 16, BLOCK}, new int[] {1, 2}},
            {new int[] {1, 5, 6, 7, 16}, new int[] {3, 2, 2, 16, BLOCK}, new int[] {1, 2, 2}},
            {new int[] {1, 5, 6, 7, 24}, new int[] {3, 3, 3, 24, 2 * BLOCK}, new int[] {1, 1, 1}},
            {new int[] {2, 9, 13, 16}, new int[] {3, 5, 16, BLOCK}, new int[] {1, 2}},
        };
        for (Object[] c : cases) {
            int[] inputShape = (int[]) c[0];
            int[] kernelShape = (int[]) c[1];
            int[] strides = (int[]) c[2];
            ConvGeometry g = ConvSpec.builder().strides(strides).padding(Padding.SAME).build()
                    .resolve(inputShape, kernelShape);
            assertTrue(WinogradTiles.plan(g, BLOCK) != null || WinogradPhases.plan(g, BLOCK) != null,
                    "a Winograd path takes " + g);
            float[] x = uniform(random, g.batch() * g.inputSpatialSize() * g.inChannels());
            int kernelSize = 1;
            for (int k : kernelShape) {
                kernelSize *= k;
            }
            float[] w = uniform(random, kernelSize);
            NaiveConv.Result reference = Reference.forward(Tolerance.toDouble(x), inputShape, Tolerance.toDouble(w),
                    kernelShape, null, strides, new int[] {1}, new int[] {1}, Padding.SAME, 1);
            float[] y = new float[g.batch() * g.outputSpatialSize() * g.outChannels()];
            CpuBackend.sequential().forward(g, x, w, null, y);
            Tolerance.assertClose(g.toString(), reference.shape(), reference.values(), reference.absSums(),
                    g.outputShape(), y);
        }
    }

    @Test
    void nonFiniteValuesGoTheDirectWayAndPropagateLikeTheReference() {
        SplittableRandom random = new SplittableRandom(7);
        int infinities = 0;
        // 3x3: the tiles; 2x2: the phases. VALID: the reference multiplies padding zeros by an infinite weight
        // (NaN), where the library skips them.
        for (int k : new int[] {3, 2}) {
            int[] inputShape = {2, 7, 9, 16};
            int[] kernelShape = {k, k, 16, BLOCK};
            ConvGeometry g = ConvSpec.builder().padding(Padding.VALID).build().resolve(inputShape, kernelShape);
            assertNotNull(k == 3 ? WinogradTiles.plan(g, BLOCK) : WinogradPhases.plan(g, BLOCK), "k = " + k);
            for (int round = 0; round < 6; round++) {
                float[] x = positive(random, 2 * 7 * 9 * 16);
                float[] w = positive(random, k * k * 16 * BLOCK);
                // One infinity among positive values and weights: the direct sum gives +Inf where it is read,
                // while the transforms (which subtract) would give Inf - Inf = NaN.
                float[] target = round % 2 == 0 ? x : w;
                target[random.nextInt(target.length)] = round < 4 ? Float.POSITIVE_INFINITY : Float.NaN;
                NaiveConv.Result reference = Reference.forward(Tolerance.toDouble(x), inputShape,
                        Tolerance.toDouble(w), kernelShape, null, new int[] {1}, new int[] {1}, new int[] {1},
                        Padding.VALID, 1);
                float[] y = new float[g.batch() * g.outputSpatialSize() * BLOCK];
                CpuBackend.instance().forward(g, x, w, null, y);
                double[] expected = reference.values();
                for (int i = 0; i < y.length; i++) {
                    String where = "output " + i + ", k = " + k + ", round " + round;
                    if (Double.isNaN(expected[i]) || Double.isInfinite(expected[i])) {
                        assertEquals((float) expected[i], y[i], where);
                        infinities += Double.isInfinite(expected[i]) ? 1 : 0;
                    } else {
                        assertTrue(Float.isFinite(y[i]), where + " is " + y[i]);
                    }
                }
            }
        }
        assertTrue(infinities > 200, "infinities checked: " + infinities);
    }

    @Test
    void theTilesTakeOnlyWhatTheyCanCompute() {
        int[] in2 = {1, 8, 8, 16};
        assertNotNull(plan(ConvSpec.defaults(), in2, kernelShape(2, 16, BLOCK)));
        assertNotNull(plan(ConvSpec.builder().kernelDilation(2).build(), in2, kernelShape(2, 16, BLOCK)));
        assertNotNull(plan(ConvSpec.defaults(), new int[] {1, 40, 16}, kernelShape(1, 16, BLOCK)));
        assertNotNull(plan(ConvSpec.defaults(), new int[] {1, 4, 4, 4, 16}, kernelShape(3, 16, BLOCK)));
        assertNull(plan(ConvSpec.builder().strides(2).build(), in2, kernelShape(2, 16, BLOCK)), "stride 2");
        assertNotNull(phases(ConvSpec.builder().strides(2).build(), in2, kernelShape(2, 16, BLOCK)),
                "3x3 at stride 2: 25 products for 36");
        assertNull(phases(ConvSpec.builder().strides(2).build(), new int[] {1, 40, 16}, new int[] {3, 16, BLOCK}),
                "a 1-d kernel of 3 at stride 2 saves 1.2x");
        assertNotNull(phases(ConvSpec.builder().inputDilation(2).padding(Padding.of(2)).build(), in2,
                new int[] {4, 4, 16, BLOCK}), "4x4 over a 2x dilated input");
        assertNotNull(phases(ConvSpec.defaults(), in2, new int[] {2, 2, 16, BLOCK}), "a 2x2 kernel");
        assertNotNull(phases(ConvSpec.builder().strides(1, 2).build(), in2, kernelShape(2, 16, BLOCK)),
                "stride 2 along one dim");
        assertNull(phases(ConvSpec.builder().strides(3).build(), in2, kernelShape(2, 16, BLOCK)), "stride 3");
        ConvGeometry zeroFilled = ConvGeometry.explicit(new int[] {1}, new int[] {8, 8}, 16, new int[] {4, 4}, BLOCK,
                1, new int[] {1, 1}, new int[] {2, 2}, new int[] {1, 1}, new int[] {2, 2}, new int[] {2, 2},
                org.convcl.EdgeMode.ZERO);
        assertNotNull(WinogradPhases.plan(zeroFilled, BLOCK), "input dilation 2 with zero padding");
        ConvGeometry wrapped = ConvGeometry.explicit(new int[] {1}, new int[] {8, 8}, 16, new int[] {4, 4}, BLOCK,
                1, new int[] {1, 1}, new int[] {2, 2}, new int[] {1, 1}, new int[] {2, 2}, new int[] {2, 2},
                org.convcl.EdgeMode.WRAP);
        assertNull(WinogradPhases.plan(wrapped, BLOCK), "input dilation with wrap-around padding fills the holes");
        assertNull(phases(ConvSpec.builder().strides(2).build(), in2, new int[] {7, 7, 16, BLOCK}),
                "7 taps at stride 2 (4 per phase)");
        assertNull(phases(ConvSpec.defaults(), new int[] {1, 40, 16}, new int[] {2, 16, BLOCK}),
                "a 1-d kernel of 2 saves 1.33x");
        assertNull(plan(ConvSpec.builder().inputDilation(2).padding(Padding.of(1)).build(), in2,
                kernelShape(2, 16, BLOCK)),
                "input dilation");
        assertNull(plan(ConvSpec.builder().groups(2).build(), in2, new int[] {3, 3, 8, BLOCK}), "groups");
        assertNull(plan(ConvSpec.defaults(), in2, new int[] {5, 5, 16, BLOCK}), "a 5x5 kernel");
        assertNull(plan(ConvSpec.defaults(), in2, new int[] {3, 1, 16, BLOCK}), "a 3x1 kernel");
        assertNull(plan(ConvSpec.defaults(), new int[] {1, 8, 8, 4}, kernelShape(2, 4, BLOCK)), "4 input channels");
        assertNull(plan(ConvSpec.defaults(), in2, kernelShape(2, 16, BLOCK + 1)), "a partial channel block");
        assertNull(plan(ConvSpec.defaults(), new int[] {1, 4, 4, 4, 4, 16}, new int[] {3, 3, 3, 3, 16, BLOCK}),
                "4 spatial dims");
        // Channels so many that 4 tiles' buffers would pass the bound.
        assertNull(plan(ConvSpec.defaults(), new int[] {1, 4, 4, 4, 1024}, kernelShape(3, 1024, 2 * BLOCK)),
                "1024 input channels in 3-d");
    }

    /** Every core and one thread, each output poisoned with NaN first, against the float64 reference. */
    private static void assertBothBackendsMatch(ConvGeometry g, float[] x, float[] w, float[] bias,
            NaiveConv.Result reference, Padding padding) {
        for (CpuBackend backend : new CpuBackend[] {CpuBackend.instance(), CpuBackend.sequential()}) {
            float[] y = new float[g.batch() * g.outputSpatialSize() * g.outChannels()];
            java.util.Arrays.fill(y, Float.NaN);
            backend.forward(g, x, w, bias, y);
            Tolerance.assertClose(backend.name() + " " + g + " " + padding, reference.shape(), reference.values(),
                    reference.absSums(), g.outputShape(), y);
        }
    }

    private static WinogradPhases phases(ConvSpec spec, int[] inputShape, int[] kernelShape) {
        return WinogradPhases.plan(spec.resolve(inputShape, kernelShape), BLOCK);
    }

    private static WinogradTiles plan(ConvSpec spec, int[] inputShape, int[] kernelShape) {
        return WinogradTiles.plan(spec.resolve(inputShape, kernelShape), BLOCK);
    }

    private static Padding padding(SplittableRandom random, int rank) {
        int kind = random.nextInt(4);
        if (kind < 2) {
            Padding named = NAMED[random.nextInt(NAMED.length)];
            return named == Padding.CAUSAL && rank != 1 ? Padding.SAME : named;
        }
        if (kind == 2) {
            return Padding.of(random.nextInt(4));
        }
        int[][] pairs = new int[rank][];
        for (int d = 0; d < rank; d++) {
            pairs[d] = new int[] {random.nextInt(-1, 4), random.nextInt(-1, 4)};
        }
        return Padding.pairs(pairs);
    }

    private static int[] kernelShape(int rank, int cin, int cout) {
        int[] shape = new int[rank + 2];
        java.util.Arrays.fill(shape, 0, rank, 3);
        shape[rank] = cin;
        shape[rank + 1] = cout;
        return shape;
    }

    private static int[] concat(int[] batch, int[] spatial, int channels) {
        List<Integer> all = new ArrayList<>();
        for (int b : batch) {
            all.add(b);
        }
        for (int s : spatial) {
            all.add(s);
        }
        all.add(channels);
        return all.stream().mapToInt(Integer::intValue).toArray();
    }

    private static float[] uniform(SplittableRandom random, int n) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) random.nextDouble(-1, 1);
        }
        return values;
    }

    private static float[] positive(SplittableRandom random, int n) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) random.nextDouble(0.1, 1);
        }
        return values;
    }
}
