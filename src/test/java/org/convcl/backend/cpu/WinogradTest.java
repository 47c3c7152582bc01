package org.convcl.backend.cpu;

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
import org.convcl.backend.CpuBackend;
import org.convcl.testing.NaiveConv;
import org.convcl.testing.Reference;
import org.convcl.testing.Tolerance;
import org.junit.jupiter.api.Test;

/**
 * The Java path's Winograd tiles ({@link WinogradTiles}) against the float64 naive convolution: every geometry
 * here is one the tiles take (checked), over ranks 1 to 3, kernel dilations, every padding mode including crops,
 * tiles cut by the output's edge and by blocks, channel tails and bias; and NaN or infinities, which the
 * transforms would turn into other values, go the direct way and propagate as the reference says.
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
            int[] batch = random.nextBoolean() ? new int[] {1 + random.nextInt(2)} : new int[] {2, 1};
            Padding padding = padding(random, rank);
            ConvSpec spec = ConvSpec.builder().kernelDilation(dilation).padding(padding).build();
            int[] inputShape = concat(batch, spatial, cin);
            int[] kernelShape = kernelShape(rank, cin, cout);
            ConvGeometry g = spec.resolve(inputShape, kernelShape);
            if (g.outputSpatialSize() == 0) {
                continue;
            }
            assertNotNull(WinogradTiles.plan(g, BLOCK), "the tiles take " + g);
            float[] x = uniform(random, g.batch() * g.inputSpatialSize() * cin);
            float[] w = uniform(random, kernelShape[0] * (int) Math.pow(3, rank - 1) * cin * cout);
            float[] bias = random.nextBoolean() ? uniform(random, cout) : null;
            NaiveConv.Result reference = Reference.forward(Tolerance.toDouble(x), inputShape, Tolerance.toDouble(w),
                    kernelShape, bias == null ? null : Tolerance.toDouble(bias), new int[] {1}, new int[] {1},
                    dilation, padding, 1);
            for (CpuBackend backend : new CpuBackend[] {CpuBackend.instance(), CpuBackend.sequential()}) {
                float[] y = new float[g.batch() * g.outputSpatialSize() * cout];
                java.util.Arrays.fill(y, Float.NaN);
                backend.forward(g, x, w, bias, y);
                Tolerance.assertClose(backend.name() + " " + g + " " + padding, reference.shape(),
                        reference.values(), reference.absSums(), g.outputShape(), y);
            }
            checked++;
        }
        assertTrue(checked >= 70, "geometries checked: " + checked);
    }

    @Test
    void nonFiniteValuesGoTheDirectWayAndPropagateLikeTheReference() {
        SplittableRandom random = new SplittableRandom(7);
        int[] inputShape = {2, 7, 9, 16};
        int[] kernelShape = {3, 3, 16, BLOCK};
        // VALID: the reference multiplies padding zeros by an infinite weight (NaN), the library skips them.
        ConvGeometry g = ConvSpec.builder().padding(Padding.VALID).build().resolve(inputShape, kernelShape);
        assertNotNull(WinogradTiles.plan(g, BLOCK));
        int infinities = 0;
        for (int round = 0; round < 6; round++) {
            float[] x = positive(random, 2 * 7 * 9 * 16);
            float[] w = positive(random, 9 * 16 * BLOCK);
            // One infinity among positive values and weights: the direct sum gives +Inf where it is read, while
            // the transforms (which subtract) would give Inf - Inf = NaN.
            float[] target = round % 2 == 0 ? x : w;
            target[random.nextInt(target.length)] = round < 4 ? Float.POSITIVE_INFINITY : Float.NaN;
            NaiveConv.Result reference = Reference.forward(Tolerance.toDouble(x), inputShape, Tolerance.toDouble(w),
                    kernelShape, null, new int[] {1}, new int[] {1}, new int[] {1}, Padding.VALID, 1);
            float[] y = new float[2 * 5 * 7 * BLOCK];
            CpuBackend.instance().forward(g, x, w, null, y);
            double[] expected = reference.values();
            for (int i = 0; i < y.length; i++) {
                if (Double.isNaN(expected[i]) || Double.isInfinite(expected[i])) {
                    assertEquals((float) expected[i], y[i], "output " + i + " in round " + round);
                    infinities += Double.isInfinite(expected[i]) ? 1 : 0;
                } else {
                    assertTrue(Float.isFinite(y[i]), "output " + i + " in round " + round + " is " + y[i]);
                }
            }
        }
        assertTrue(infinities > 100, "infinities checked: " + infinities);
    }

    @Test
    void theTilesTakeOnlyWhatTheyCanCompute() {
        int[] in2 = {1, 8, 8, 16};
        assertNotNull(plan(ConvSpec.defaults(), in2, kernelShape(2, 16, BLOCK)));
        assertNotNull(plan(ConvSpec.builder().kernelDilation(2).build(), in2, kernelShape(2, 16, BLOCK)));
        assertNotNull(plan(ConvSpec.defaults(), new int[] {1, 40, 16}, kernelShape(1, 16, BLOCK)));
        assertNotNull(plan(ConvSpec.defaults(), new int[] {1, 4, 4, 4, 16}, kernelShape(3, 16, BLOCK)));
        assertNull(plan(ConvSpec.builder().strides(2).build(), in2, kernelShape(2, 16, BLOCK)), "stride 2");
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
