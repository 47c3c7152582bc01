package org.convcl.backend.cpu.internal;

import static org.convcl.testing.TestArrays.concat;
import static org.convcl.testing.TestArrays.ones;
import static org.convcl.testing.TestArrays.uniform;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import java.util.SplittableRandom;
import org.convcl.ConvGeometry;
import org.convcl.ConvSpec;
import org.convcl.DType;
import org.convcl.HalfFloats;
import org.convcl.Padding;
import org.convcl.Tensor;
import org.convcl.backend.ConvBackend;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.testing.HalfBound;
import org.convcl.testing.NaiveConv;
import org.convcl.testing.Reference;
import org.convcl.testing.Tolerance;
import org.junit.jupiter.api.Test;

/**
 * The 16-bit forward of 1x1 calls through the float32 1x1 tiles ({@link HalfPointwiseTasks}, issue 26): stride 1
 * (a tile's rows one contiguous input range), strides over odd sizes (one range a position), several batch
 * elements in one tile, tiles cut along rows and along channels, with and without a bias; against float64 on the
 * rounded operands within {@link HalfBound}, and bit for bit against the float32 forward on the decoded operands
 * rounded once, which runs the same tiles in the same order. The tiles' own output is the backend's, bit for bit.
 */
class HalfPointwiseTasksTest {

    @Test
    void tilesDecodeTheirRowsAndRoundWhatTheyWrote() {
        assumeTrue(CpuKernels.pointwise() != null, "the Vector API module is not open in this JVM");
        int block = CpuKernels.pointwise().channelBlock();
        // {batch, spatial, strides, cin, cout}
        Object[][] cases = {
            {2, new int[] {9, 7}, new int[] {1, 1}, 37, 2 * block + 3},
            {3, new int[] {9, 7}, new int[] {2, 2}, 24, block - 1},
            {1, new int[] {11}, new int[] {3}, 5, 6},
            // Fewer rows than channels and work for several tasks: tiles cut along the channels.
            {1, new int[] {3, 5}, new int[] {1, 1}, 700, 3 * block + 3},
            // More rows than a tile holds: tiles cut along the rows, across batch elements.
            {4, new int[] {12, 12}, new int[] {1, 1}, 16, 8},
        };
        SplittableRandom random = new SplittableRandom(2626);
        int tiled = 0;
        for (int i = 0; i < cases.length; i++) {
            int batch = (int) cases[i][0];
            int[] spatial = (int[]) cases[i][1];
            int[] strides = (int[]) cases[i][2];
            int cin = (int) cases[i][3];
            int cout = (int) cases[i][4];
            int rank = spatial.length;
            int[] xShape = concat(concat(new int[] {batch}, spatial), new int[] {cin});
            int[] wShape = concat(ones(rank), new int[] {cin, cout});
            ConvGeometry g = ConvSpec.builder().strides(strides).padding(Padding.VALID).build().resolve(xShape, wShape);
            for (DType dtype : List.of(DType.FLOAT16, DType.BFLOAT16)) {
                short[] x = HalfFloats.encode(dtype, uniform(random, Tensor.elementCount(xShape)));
                short[] w = HalfFloats.encode(dtype, uniform(random, Tensor.elementCount(wShape)));
                short[] bias = i % 2 == 0 ? HalfFloats.encode(dtype, uniform(random, cout)) : null;
                String what = dtype.cliName() + " " + g;
                HalfPointwiseTasks tasks = HalfPointwiseTasks.of(g, dtype, HalfFloats.decode(dtype, w));
                assertNotNull(tasks, "the 1x1 tiles must take " + g);
                tiled += tasks.count() > 1 ? 1 : 0;
                int outputLength = (int) Tensor.elementCount(g.outputShape());

                float[] decodedBias = bias == null ? null : HalfFloats.decode(dtype, bias);
                short[] byTasks = new short[outputLength];
                for (int t = 0; t < tasks.count(); t++) {
                    tasks.run(t, x, decodedBias, byTasks);
                }
                NaiveConv.Result reference = Reference.forward(Tolerance.toDouble(HalfFloats.decode(dtype, x)),
                        xShape, Tolerance.toDouble(HalfFloats.decode(dtype, w)), wShape,
                        bias == null ? null : Tolerance.toDouble(decodedBias), strides, ones(rank), ones(rank),
                        Padding.VALID, 1);
                float[] wide = new float[outputLength];
                CpuBackend.instance().forward(g, HalfFloats.decode(dtype, x), HalfFloats.decode(dtype, w),
                        decodedBias, wide);
                short[] floatPathRounded = HalfFloats.encode(dtype, wide);
                for (ConvBackend backend : List.of(CpuBackend.instance(), CpuBackend.sequential())) {
                    short[] got = new short[outputLength];
                    backend.forward(g, dtype, x, w, bias, got);
                    HalfBound.assertWithin(backend.name() + " " + what, dtype, cin, reference,
                            HalfFloats.decode(dtype, got));
                    assertArrayEquals(byTasks, got, backend.name() + " runs the 16-bit tiles on " + what);
                    assertArrayEquals(floatPathRounded, got, backend.name() + " against float32, rounded: " + what);
                }
            }
        }
        assertTrue(tiled >= 2, "too few cases were cut into several tiles: " + tiled);
    }
}
