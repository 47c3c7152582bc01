package org.convcl.backend.cpu.internal;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.convcl.ConvGeometry;
import org.convcl.ConvSpec;
import org.convcl.Padding;
import org.convcl.Tensor;
import org.convcl.testing.NaiveConv;
import org.convcl.testing.Reference;
import org.convcl.testing.Tolerance;
import org.junit.jupiter.api.Test;

/**
 * Every CPU row kernel (plain loops, depthwise, and the Vector API ones when the module is present) on
 * random configurations with channel counts that exercise full register blocks, single vectors, scalar
 * tails and rows whose length is not a multiple of the position block, against the float64 reference.
 */
class CpuKernelsTest {
    private static final int[] CHANNELS = {1, 3, 16, 17, 40, 64, 80};

    @Test
    void everyKernelMatchesTheReference() throws Exception {
        SplittableRandom random = new SplittableRandom(20261124);
        List<RowKernel> general = generalKernels();
        List<RowKernel> depthwise = new ArrayList<>(List.of(new DepthwiseKernel()));
        if (CpuKernels.vectorApiAvailable()) {
            depthwise.add(newKernel("VectorDepthwiseKernel"));
        }
        for (int trial = 0; trial < 60; trial++) {
            int rank = 1 + random.nextInt(3);
            boolean isDepthwise = trial % 4 == 0;
            int cin = CHANNELS[random.nextInt(CHANNELS.length)];
            int groups = isDepthwise ? cin : (random.nextInt(3) == 0 && cin % 2 == 0 ? 2 : 1);
            int cout = isDepthwise ? cin : CHANNELS[random.nextInt(CHANNELS.length)] * groups;
            int[] spatial = new int[rank];
            int[] kernel = new int[rank];
            int[] strides = new int[rank];
            int[] inputDilation = new int[rank];
            int[] kernelDilation = new int[rank];
            int[][] pads = new int[rank][];
            for (int d = 0; d < rank; d++) {
                spatial[d] = 1 + random.nextInt(rank == 1 ? 23 : 9);
                kernel[d] = 1 + random.nextInt(3);
                strides[d] = 1 + random.nextInt(2);
                inputDilation[d] = 1 + random.nextInt(2);
                kernelDilation[d] = 1 + random.nextInt(2);
                pads[d] = new int[] {random.nextInt(4) - 1, random.nextInt(4) - 1};
            }
            Padding padding = Padding.pairs(pads);
            int batch = 1 + random.nextInt(2);
            int[] xShape = concat(batch, spatial, cin);
            int[] wShape = new int[rank + 2];
            System.arraycopy(kernel, 0, wShape, 0, rank);
            wShape[rank] = cin / groups;
            wShape[rank + 1] = cout;
            ConvSpec spec = ConvSpec.builder().strides(strides).inputDilation(inputDilation)
                    .kernelDilation(kernelDilation).padding(padding).groups(groups).build();
            ConvGeometry g;
            try {
                g = spec.resolve(xShape, wShape);
            } catch (IllegalArgumentException cropsTooMuch) {
                continue;
            }
            float[] x = random(random, Tensor.elementCount(xShape));
            float[] w = random(random, Tensor.elementCount(wShape));
            float[] bias = random.nextBoolean() ? random(random, cout) : null;
            NaiveConv.Result reference = Reference.forward(Tolerance.toDouble(x), xShape, Tolerance.toDouble(w),
                    wShape, bias == null ? null : Tolerance.toDouble(bias), strides, inputDilation, kernelDilation,
                    padding, groups);
            for (RowKernel kernelUnderTest : isDepthwise ? depthwise : general) {
                for (long tableLimit : new long[] {ConvRows.MAX_TABLE_ENTRIES, 0}) {
                    float[] y = runAllRows(kernelUnderTest, new ConvRows(g, tableLimit), x, w, bias);
                    Tolerance.assertClose(kernelUnderTest.getClass().getSimpleName() + " (table limit "
                            + tableLimit + ") on " + g, reference.shape(), reference.values(),
                            reference.absSums(), g.outputShape(), y);
                }
            }
        }
        assertTrue(general.size() >= 1);
    }

    /**
     * Few input channels under a wide kernel, as an RGB stem: the Vector kernel merges the taps along the last
     * dim that run on in memory into one reduction run, and must stop a run where padding, an edge mode, a
     * stride or a group boundary breaks the memory order.
     */
    @Test
    void wideKernelsOverFewChannelsMatchTheReference() throws Exception {
        List<RowKernel> kernels = generalKernels();
        SplittableRandom random = new SplittableRandom(7);
        Padding[] paddings = {Padding.SAME, Padding.VALID, Padding.CIRCULAR, Padding.REFLECT,
            Padding.pairs(new int[][] {{3, -2}, {-1, 4}})};
        int[][] kernelSizes = {{7, 7}, {3, 6}, {1, 5}};
        for (Padding padding : paddings) {
            for (int[] kernel : kernelSizes) {
                for (int[] channels : new int[][] {{3, 64, 1}, {1, 20, 1}, {6, 40, 2}}) {
                    int cin = channels[0];
                    int cout = channels[1];
                    int groups = channels[2];
                    int stride = 1 + random.nextInt(2);
                    int[] xShape = {2, 11, 13, cin};
                    int[] wShape = {kernel[0], kernel[1], cin / groups, cout};
                    ConvSpec spec = ConvSpec.builder().strides(stride, 1).padding(padding).groups(groups).build();
                    ConvGeometry g = spec.resolve(xShape, wShape);
                    float[] x = random(random, Tensor.elementCount(xShape));
                    float[] w = random(random, Tensor.elementCount(wShape));
                    float[] bias = random(random, cout);
                    NaiveConv.Result reference = Reference.forward(Tolerance.toDouble(x), xShape,
                            Tolerance.toDouble(w), wShape, Tolerance.toDouble(bias), new int[] {stride, 1},
                            new int[] {1, 1}, new int[] {1, 1}, padding, groups);
                    for (RowKernel kernelUnderTest : kernels) {
                        float[] y = runAllRows(kernelUnderTest, new ConvRows(g, ConvRows.MAX_TABLE_ENTRIES), x, w,
                                bias);
                        Tolerance.assertClose(kernelUnderTest.getClass().getSimpleName() + " on " + g,
                                reference.shape(), reference.values(), reference.absSums(), g.outputShape(), y);
                    }
                }
            }
        }
    }

    /**
     * Few input channels and at least a 4-vector block of output channels, where the Vector kernel reads its
     * 4-vector blocks from patch panels (PatchPanel): every edge mode, strides, both dilations, crops, ranks 1 to
     * 3, output channels with a 1-vector block or a scalar tail left after the panel blocks, and a long 1-d row
     * whose panel is filled in several segments. Rows come in uneven chunks so that interiors are cut anywhere.
     */
    @Test
    void patchPanelRowsMatchTheReference() throws Exception {
        List<RowKernel> kernels = generalKernels();
        SplittableRandom random = new SplittableRandom(17);
        Padding[] modes = {Padding.SAME, Padding.VALID, Padding.CIRCULAR, Padding.REFLECT, null};
        int[][] pairs = {{2, -1}, {-2, 3}, {1, 1}}; // explicit pads, crops among them, for the null entry
        int lanes = CpuKernels.vectorApiAvailable() ? vectorLanes() : 16;
        int checked = 0;
        for (int trial = 0; trial < 40; trial++) {
            int rank = 1 + trial % 3;
            int cin = 1 + random.nextInt(PatchPanel.MAX_CHANNELS);
            int cout = 4 * lanes + (trial % 4 == 1 ? lanes : trial % 4 == 2 ? 3 : 0);
            Padding mode = modes[random.nextInt(modes.length)];
            Padding padding = mode != null ? mode : Padding.pairs(java.util.Arrays.copyOf(pairs, rank));
            int[] spatial = new int[rank];
            int[] kernel = new int[rank];
            int[] strides = new int[rank];
            int[] inputDilation = new int[rank];
            int[] kernelDilation = new int[rank];
            for (int d = 0; d < rank; d++) {
                boolean last = d == rank - 1;
                spatial[d] = last ? 20 + random.nextInt(30) : 3 + random.nextInt(5);
                kernel[d] = 1 + random.nextInt(last ? 7 : 3);
                strides[d] = 1 + random.nextInt(2);
                inputDilation[d] = random.nextInt(5) == 0 ? 2 : 1;
                kernelDilation[d] = random.nextInt(4) == 0 ? 2 : 1;
            }
            int[] xShape = concat(1 + random.nextInt(2), spatial, cin);
            int[] wShape = new int[rank + 2];
            System.arraycopy(kernel, 0, wShape, 0, rank);
            wShape[rank] = cin;
            wShape[rank + 1] = cout;
            ConvSpec spec = ConvSpec.builder().strides(strides).inputDilation(inputDilation)
                    .kernelDilation(kernelDilation).padding(padding).build();
            ConvGeometry g;
            try {
                g = spec.resolve(xShape, wShape);
            } catch (IllegalArgumentException refused) {
                continue; // e.g. REFLECT wider than the input
            }
            ConvRows rows = new ConvRows(g, ConvRows.MAX_TABLE_ENTRIES);
            assertTrue(PatchPanel.applies(rows, 4 * lanes), "the patch path applies to " + g);
            checkAgainstReference(kernels, g, rows, random, strides, inputDilation, kernelDilation, padding, 5);
            checked++;
        }
        // A 1-d row of 600 positions under a 128-tap kernel over 4 channels: 512 steps a patch, so a panel holds
        // 128 positions and a chunk of 300 is filled in three segments.
        int[] xShape = {1, 700, 4};
        int[] wShape = {128, 4, 4 * lanes};
        ConvGeometry g = ConvSpec.builder().padding(Padding.CIRCULAR).build().resolve(xShape, wShape);
        ConvRows rows = new ConvRows(g, ConvRows.MAX_TABLE_ENTRIES);
        assertTrue(PatchPanel.applies(rows, 4 * lanes) && PatchPanel.segmentPositions(rows) < 300,
                "a row filled in segments: " + g);
        checkAgainstReference(kernels, g, rows, random, new int[] {1}, new int[] {1}, new int[] {1},
                Padding.CIRCULAR, 300);
        assertTrue(checked >= 30, "configurations checked: " + checked);
    }

    private static void checkAgainstReference(List<RowKernel> kernels, ConvGeometry g, ConvRows rows,
            SplittableRandom random, int[] strides, int[] inputDilation, int[] kernelDilation, Padding padding,
            int chunk) throws Exception {
        int[] xShape = g.inputShape();
        int[] wShape = g.kernelShape();
        float[] x = random(random, Tensor.elementCount(xShape));
        float[] w = random(random, Tensor.elementCount(wShape));
        float[] bias = random.nextBoolean() ? random(random, g.outChannels()) : null;
        NaiveConv.Result reference = Reference.forward(Tolerance.toDouble(x), xShape, Tolerance.toDouble(w), wShape,
                bias == null ? null : Tolerance.toDouble(bias), strides, inputDilation, kernelDilation, padding, 1);
        for (RowKernel kernelUnderTest : kernels) {
            float[] y = runAllRows(kernelUnderTest, rows, x, w, bias, chunk, chunk + 8);
            Tolerance.assertClose(kernelUnderTest.getClass().getSimpleName() + " on " + g, reference.shape(),
                    reference.values(), reference.absSums(), g.outputShape(), y);
        }
    }

    private static int vectorLanes() throws Exception {
        return (int) Class.forName(CpuKernels.class.getPackageName() + ".VectorConvKernel")
                .getDeclaredMethod("lanes").invoke(null);
    }

    /**
     * Input dilation along the last dim: the Vector kernel blocks positions of one phase class (a period of
     * input dilation / gcd(stride, input dilation) apart), every class in turn, and must cover each position
     * of every uneven chunk exactly once.
     */
    @Test
    void inputDilatedRowsMatchTheReference() throws Exception {
        List<RowKernel> kernels = generalKernels();
        SplittableRandom random = new SplittableRandom(11);
        for (int inputDilation = 2; inputDilation <= 4; inputDilation++) {
            for (int stride = 1; stride <= 3; stride++) {
                for (int cout : new int[] {64, 20}) {
                    int[] xShape = {1, 5, 9, 8};
                    int[] wShape = {3, 4, 8, cout};
                    Padding padding = Padding.pairs(new int[][] {{2, 1}, {3, random.nextInt(3) - 1}});
                    ConvSpec spec = ConvSpec.builder().strides(1, stride).inputDilation(1, inputDilation)
                            .padding(padding).build();
                    ConvGeometry g = spec.resolve(xShape, wShape);
                    float[] x = random(random, Tensor.elementCount(xShape));
                    float[] w = random(random, Tensor.elementCount(wShape));
                    NaiveConv.Result reference = Reference.forward(Tolerance.toDouble(x), xShape,
                            Tolerance.toDouble(w), wShape, null, new int[] {1, stride}, new int[] {1, inputDilation},
                            new int[] {1, 1}, padding, 1);
                    for (RowKernel kernelUnderTest : kernels) {
                        float[] y = runAllRows(kernelUnderTest, new ConvRows(g, ConvRows.MAX_TABLE_ENTRIES), x, w,
                                null);
                        Tolerance.assertClose(kernelUnderTest.getClass().getSimpleName() + " on " + g,
                                reference.shape(), reference.values(), reference.absSums(), g.outputShape(), y);
                    }
                }
            }
        }
    }

    /**
     * Depthwise rows long enough to have an interior stretch, where the Vector depthwise kernel moves every tap by
     * one stride instead of looking the taps up again: every edge mode, strides and kernel dilations, crops, and
     * channel counts that fill 4-, 2- and 1-vector blocks and a scalar tail; rows cut into uneven chunks so that
     * stretches begin and end inside them.
     */
    @Test
    void depthwiseRowsWithInteriorStretchesMatchTheReference() throws Exception {
        List<RowKernel> kernels = new ArrayList<>(List.of(new DepthwiseKernel()));
        if (CpuKernels.vectorApiAvailable()) {
            kernels.add(newKernel("VectorDepthwiseKernel"));
        }
        SplittableRandom random = new SplittableRandom(13);
        Padding[] paddings = {Padding.SAME, Padding.VALID, Padding.CIRCULAR, Padding.REFLECT, Padding.CAUSAL,
            Padding.pairs(new int[][] {{1, 0}, {-2, 3}})};
        for (Padding padding : paddings) {
            for (int channels : new int[] {96, 112, 7}) {
                int stride = 1 + random.nextInt(3);
                int dilation = 1 + random.nextInt(3);
                int[] xShape = {2, 4, 37, channels};
                int[] wShape = {3, 3, 1, channels};
                ConvSpec spec = ConvSpec.builder().strides(1, stride).kernelDilation(1, dilation).padding(padding)
                        .groups(channels).build();
                ConvGeometry g;
                try {
                    g = spec.resolve(xShape, wShape);
                } catch (IllegalArgumentException refused) {
                    continue; // e.g. REFLECT wider than the input: refused for every kernel alike
                }
                float[] x = random(random, Tensor.elementCount(xShape));
                float[] w = random(random, Tensor.elementCount(wShape));
                float[] bias = random(random, channels);
                NaiveConv.Result reference = Reference.forward(Tolerance.toDouble(x), xShape, Tolerance.toDouble(w),
                        wShape, Tolerance.toDouble(bias), new int[] {1, stride}, new int[] {1, 1},
                        new int[] {1, dilation}, padding, channels);
                ConvRows rows = new ConvRows(g, ConvRows.MAX_TABLE_ENTRIES);
                assertTrue(padding == Padding.CIRCULAR || padding == Padding.REFLECT
                        || rows.lastInteriorTo - rows.lastInteriorFrom > 5, "an interior stretch to test: " + g);
                for (RowKernel kernelUnderTest : kernels) {
                    float[] y = runAllRows(kernelUnderTest, rows, x, w, bias);
                    Tolerance.assertClose(kernelUnderTest.getClass().getSimpleName() + " on " + g,
                            reference.shape(), reference.values(), reference.absSums(), g.outputShape(), y);
                }
            }
        }
    }

    /** The kernels for groups other than depthwise: plain loops, and the Vector API one where it exists. */
    private static List<RowKernel> generalKernels() throws Exception {
        List<RowKernel> kernels = new ArrayList<>(List.of(new ScalarConvKernel()));
        if (CpuKernels.vectorApiAvailable()) {
            kernels.add(newKernel("VectorConvKernel"));
        }
        return kernels;
    }

    /** Runs a kernel over the whole output in uneven chunks, so chunk edges fall inside position blocks. */
    private static float[] runAllRows(RowKernel kernel, ConvRows rows, float[] x, float[] w, float[] bias) {
        return runAllRows(kernel, rows, x, w, bias, 5, 13);
    }

    /** As above, in chunks of {@code even} and {@code odd} positions in turn. */
    private static float[] runAllRows(RowKernel kernel, ConvRows rows, float[] x, float[] w, float[] bias, int even,
            int odd) {
        ConvGeometry g = rows.geometry;
        float[] y = new float[(int) Tensor.elementCount(g.outputShape())];
        java.util.Arrays.fill(y, Float.NaN);
        if (g.batch() == 0 || g.outputSpatialSize() == 0) {
            return y;
        }
        Scratch scratch = new Scratch(rows);
        float[] prepared = kernel.prepare(rows, w);
        for (int row = 0; row < rows.rowCount(); row++) {
            // Chunks of 5 and 13 in turn: edges inside register blocks, and runs of whole blocks in between.
            int from = 0;
            for (int chunk = 0; from < rows.outLast; chunk++) {
                int length = chunk % 2 == 0 ? even : odd;
                kernel.computeRow(rows, row, from, Math.min(rows.outLast, from + length), x, prepared, bias, y,
                        scratch, null);
                from += length;
            }
        }
        return y;
    }

    private static RowKernel newKernel(String name) throws Exception {
        return (RowKernel) Class.forName(CpuKernels.class.getPackageName() + "." + name)
                .getDeclaredConstructor().newInstance();
    }

    private static int[] concat(int batch, int[] spatial, int channels) {
        int[] shape = new int[spatial.length + 2];
        shape[0] = batch;
        System.arraycopy(spatial, 0, shape, 1, spatial.length);
        shape[shape.length - 1] = channels;
        return shape;
    }

    private static float[] random(SplittableRandom random, long count) {
        float[] values = new float[(int) count];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (random.nextDouble() * 2 - 1);
        }
        return values;
    }
}
