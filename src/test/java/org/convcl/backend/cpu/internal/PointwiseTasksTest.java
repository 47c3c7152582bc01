package org.convcl.backend.cpu.internal;

import static org.convcl.testing.TestArrays.concat;
import static org.convcl.testing.TestArrays.ones;
import static org.convcl.testing.TestArrays.poisoned;
import static org.convcl.testing.TestArrays.uniform;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import java.util.SplittableRandom;
import org.convcl.Activation;
import org.convcl.ConvGeometry;
import org.convcl.ConvSpec;
import org.convcl.Epilogue;
import org.convcl.Padding;
import org.convcl.Tensor;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.backend.internal.HostEpilogue;
import org.convcl.testing.NaiveConv;
import org.convcl.testing.Reference;
import org.convcl.testing.Tolerance;
import org.junit.jupiter.api.Test;

/**
 * The 1x1 convolutions' matrix-multiply path ({@link PointwiseTasks}) through the Java backend at its edges: rows
 * that do not fill a register block, output channels past the last 4-vector block (a 1-vector block, a scalar
 * tail, channels fewer than a vector), one input channel, input channels over several reduction chunks, strides
 * over odd sizes, several batch dims, tiles cut along both rows and channels; with and without a bias, against the
 * float64 reference, and the fused epilogue against the plain call followed by {@link HostEpilogue#apply}, bit for
 * bit. Each geometry is called twice, so that the second call reads the packed kernel kept across calls.
 */
class PointwiseTasksTest {

    @Test
    void matchesTheReferenceAtItsEdges() {
        assumeTrue(CpuKernels.pointwise() != null, "the Vector API module is not open in this JVM");
        int block = CpuKernels.pointwise().channelBlock();
        int lanes = block / 4;
        // {batch shape}, {spatial}, {strides}, cin, cout
        Object[][] cases = {
            {new int[] {3}, new int[] {7}, new int[] {1}, 1, block + lanes + 5},
            {new int[] {2, 2}, new int[] {9, 7}, new int[] {2, 2}, 37, 2 * block},
            {new int[] {2}, new int[] {15, 13}, new int[] {1, 2}, 300, 2 * block + lanes + 3},
            {new int[] {1}, new int[] {5, 6, 7}, new int[] {2, 1, 3}, 20, 5},
            {new int[] {2}, new int[] {11, 9}, new int[] {1, 1}, 70, block - 1},
            // Fewer rows than channels and work for several tasks: tiles cut along the channels.
            {new int[] {1}, new int[] {3, 5}, new int[] {1, 1}, 700, 3 * block + lanes + 3},
        };
        List<Activation> activations = List.of(Activation.relu(), Activation.leakyRelu(0.2f), Activation.elu(0.5f));
        SplittableRandom random = new SplittableRandom(2027);
        int tiled = 0;
        for (int i = 0; i < cases.length; i++) {
            int[] batchShape = (int[]) cases[i][0];
            int[] spatial = (int[]) cases[i][1];
            int[] strides = (int[]) cases[i][2];
            int cin = (int) cases[i][3];
            int cout = (int) cases[i][4];
            int rank = spatial.length;
            int[] xShape = concat(concat(batchShape, spatial), new int[] {cin});
            int[] wShape = concat(ones(rank), new int[] {cin, cout});
            ConvGeometry g = ConvSpec.builder().strides(strides).padding(Padding.VALID).build().resolve(xShape, wShape);
            assertTrue(PointwiseTasks.applies(g), "the 1x1 path must take " + g);
            boolean withBias = i % 2 == 0;
            float[] x = uniform(random, Tensor.elementCount(xShape));
            float[] w = uniform(random, Tensor.elementCount(wShape));
            float[] bias = withBias ? uniform(random, cout) : null;
            NaiveConv.Result reference = Reference.forward(Tolerance.toDouble(x), xShape, Tolerance.toDouble(w),
                    wShape, bias == null ? null : Tolerance.toDouble(bias), strides, ones(rank), ones(rank),
                    Padding.VALID, 1);
            int outputLength = (int) Tensor.elementCount(g.outputShape());
            Activation activation = activations.get(i % activations.size());
            Epilogue<float[]> epilogue = new Epilogue<>(activation, uniform(random, cout), uniform(random, cout),
                    uniform(random, outputLength));
            for (int call = 0; call < 2; call++) {
                float[] plain = poisoned(outputLength);
                CpuBackend.instance().forward(g, x, w, bias, plain);
                Tolerance.assertClose("call " + call + " on " + g, reference.shape(), reference.values(),
                        reference.absSums(), g.outputShape(), plain);
                float[] fused = poisoned(outputLength);
                CpuBackend.instance().forward(g, x, w, bias, epilogue, fused);
                HostEpilogue.apply(epilogue, cout, plain);
                assertArrayEquals(plain, fused, epilogue + ", call " + call + " on " + g);
            }
            PointwiseTasks tasks = PointwiseTasks.of(g, new KernelOperand(g, w, PreparedKernels.shared()));
            tiled += tasks.count() > 1 ? 1 : 0;
        }
        assertTrue(tiled >= 1, "no case was cut into several tiles");
    }
}
