package org.convcl.backend.cpu.internal;

import static org.convcl.testing.TestArrays.concat;
import static org.convcl.testing.TestArrays.ones;
import static org.convcl.testing.TestArrays.poisoned;
import static org.convcl.testing.TestArrays.uniform;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.convcl.Activation;
import org.convcl.ConvGeometry;
import org.convcl.ConvSpec;
import org.convcl.Epilogue;
import org.convcl.Padding;
import org.convcl.Precision;
import org.convcl.Tensor;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.backend.internal.HostEpilogue;
import org.convcl.internal.Tf32;
import org.convcl.testing.NaiveConv;
import org.convcl.testing.Reference;
import org.convcl.testing.Tolerance;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The strided layers' patch matrix multiply ({@link PatchGemmTasks}) at its edges, against the float64 reference:
 * the fewest input channels it takes and the first it refuses, the longest patch it takes and the first it
 * refuses, padding on both sides and negative padding (a crop), kernel dilation, circular and reflected edges,
 * ranks 1 to 3, several batch dims, output channels past the last register block (a 1-vector block, a scalar tail,
 * fewer channels than a vector), tiles cut along rows and channels, tasks run out of order on one thread (each
 * rebuilding or reusing its thread's patches), a non-finite weight over padding; the fused epilogue against the
 * plain call followed by {@link HostEpilogue#apply}, bit for bit; TF32 as the float32 call on rounded operands, bit
 * for bit. Calls through the backend take this path where
 * the output has few positions per image ({@link PatchGemmTasks#fewPositions}); the others run its tasks directly.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PatchGemmTasksTest {
    private static final SplittableRandom RANDOM = new SplittableRandom(2036);

    @Test
    void matchesTheReferenceThroughTheBackendAtItsEdges() {
        assumeTrue(CpuKernels.pointwise() != null, "the Vector API module is not open in this JVM");
        int block = CpuKernels.pointwise().channelBlock();
        int lanes = block / 4;
        Case[] cases = {
            // The fewest input channels taken; output channels past the last whole block.
            new Case(new int[] {3}, new int[] {9, 8}, new int[] {3, 3}, new int[] {2, 2}, new int[] {1, 1},
                    Padding.pairs(new int[] {1, 1}, new int[] {1, 0}), PatchGemmTasks.MIN_IN_CHANNELS,
                    block + lanes + 5),
            // Rank 1, kernel dilation, a crop on the left and padding on the right; fewer channels than a vector.
            new Case(new int[] {2}, new int[] {40}, new int[] {3}, new int[] {3}, new int[] {2},
                    Padding.pairs(new int[] {-2, 3}), 37, 5),
            // Rank 3, strides per dim, several batch dims.
            new Case(new int[] {2, 2}, new int[] {5, 6, 7}, new int[] {2, 3, 2}, new int[] {2, 1, 3},
                    new int[] {1, 1, 1}, Padding.pairs(new int[] {1, 0}, new int[] {0, 2}, new int[] {1, 1}), 20,
                    2 * block),
            // Circular and reflected edges.
            new Case(new int[] {1}, new int[] {9, 7}, new int[] {3, 3}, new int[] {2, 2}, new int[] {1, 1},
                    Padding.CIRCULAR, 24, lanes + 3),
            new Case(new int[] {2}, new int[] {8, 9}, new int[] {3, 3}, new int[] {2, 3}, new int[] {1, 1},
                    Padding.REFLECT, 17, block - 1),
            // ResNet-50's last downsampling 3x3 at a reduced width: few rows, cut along the channels.
            new Case(new int[] {1}, new int[] {14, 14}, new int[] {3, 3}, new int[] {2, 2}, new int[] {1, 1},
                    Padding.pairs(new int[] {1, 1}, new int[] {1, 1}), 128, 4 * block),
        };
        List<Activation> activations = List.of(Activation.relu(), Activation.leakyRelu(0.2f), Activation.silu());
        for (int i = 0; i < cases.length; i++) {
            Case c = cases[i];
            ConvGeometry g = c.geometry();
            assertTrue(PatchGemmTasks.applies(g) && PatchGemmTasks.fewPositions(g),
                    "the patch path must take " + g + " first");
            float[] x = uniform(RANDOM, Tensor.elementCount(c.xShape()));
            float[] w = uniform(RANDOM, Tensor.elementCount(c.wShape()));
            float[] bias = i % 2 == 0 ? uniform(RANDOM, g.outChannels()) : null;
            NaiveConv.Result reference = c.reference(x, w, bias);
            int outputLength = (int) Tensor.elementCount(g.outputShape());
            Epilogue<float[]> epilogue = new Epilogue<>(activations.get(i % activations.size()),
                    uniform(RANDOM, g.outChannels()), uniform(RANDOM, g.outChannels()), uniform(RANDOM, outputLength));
            for (int call = 0; call < 2; call++) {
                // The second call reads the packed kernel kept from the first.
                float[] plain = poisoned(outputLength);
                CpuBackend.instance().forward(g, x, w, bias, plain);
                Tolerance.assertClose("call " + call + " on " + g, reference.shape(), reference.values(),
                        reference.absSums(), g.outputShape(), plain);
                float[] fused = poisoned(outputLength);
                CpuBackend.instance().forward(g, x, w, bias, epilogue, fused);
                HostEpilogue.apply(epilogue, g.outChannels(), plain);
                assertArrayEquals(plain, fused, epilogue + ", call " + call + " on " + g);
            }
        }
    }

    @Test
    void tilesRunInAnyOrderOnOneThread() {
        assumeTrue(CpuKernels.pointwise() != null, "the Vector API module is not open in this JVM");
        int block = CpuKernels.pointwise().channelBlock();
        // 2 x 16 x 16 = 512 output rows of 9 x 128 floats: more than a row tile holds, and channels for several
        // channel tiles, so tasks alternate between row tiles when run backwards.
        Case c = new Case(new int[] {2}, new int[] {32, 32}, new int[] {3, 3}, new int[] {2, 2}, new int[] {1, 1},
                Padding.pairs(new int[] {1, 1}, new int[] {1, 1}), 128, 3 * block + 1);
        ConvGeometry g = c.geometry();
        assertFalse(PatchGemmTasks.fewPositions(g), "the case is meant for Winograd's phases first");
        float[] x = uniform(RANDOM, Tensor.elementCount(c.xShape()));
        float[] w = uniform(RANDOM, Tensor.elementCount(c.wShape()));
        float[] bias = uniform(RANDOM, g.outChannels());
        PatchGemmTasks tasks = PatchGemmTasks.of(g, new KernelOperand(g, w, PreparedKernels.shared()));
        assertTrue(tasks.count() >= 4, "expected tiles along rows and channels, got " + tasks.count() + " tasks");
        float[] output = poisoned((int) Tensor.elementCount(g.outputShape()));
        for (int task = tasks.count() - 1; task >= 0; task--) {
            tasks.run(task, x, bias, output, null);
        }
        NaiveConv.Result reference = c.reference(x, w, bias);
        Tolerance.assertClose("tasks run backwards on " + g, reference.shape(), reference.values(),
                reference.absSums(), g.outputShape(), output);
    }

    @Test
    void takesTheLongestPatchAndRefusesTheNext() {
        assumeTrue(CpuKernels.pointwise() != null, "the Vector API module is not open in this JVM");
        // Two taps of Cin channels: a patch of 2 * Cin floats; the longest taken fills the scratch's bound with a
        // register block's rows.
        int longest = PatchGemmTasks.MAX_PATCH_FLOATS / GemmTiles.ROW_BLOCK;
        Case taken = new Case(new int[] {1}, new int[] {3}, new int[] {2}, new int[] {2}, new int[] {1},
                Padding.VALID, longest / 2, 3);
        Case refused = new Case(new int[] {1}, new int[] {3}, new int[] {2}, new int[] {2}, new int[] {1},
                Padding.VALID, longest / 2 + 1, 3);
        assertTrue(PatchGemmTasks.applies(taken.geometry()));
        assertFalse(PatchGemmTasks.applies(refused.geometry()));
        for (Case c : List.of(taken, refused)) {
            ConvGeometry g = c.geometry();
            float[] x = uniform(RANDOM, Tensor.elementCount(c.xShape()));
            float[] w = uniform(RANDOM, Tensor.elementCount(c.wShape()));
            float[] output = poisoned((int) Tensor.elementCount(g.outputShape()));
            CpuBackend.instance().forward(g, x, w, null, output);
            NaiveConv.Result reference = c.reference(x, w, null);
            Tolerance.assertClose("patch of " + g.kernelTaps() * g.inChannels() + " floats", reference.shape(),
                    reference.values(), reference.absSums(), g.outputShape(), output);
        }
    }

    @Test
    void refusesWhatItDoesNotTake() {
        Case base = new Case(new int[] {1}, new int[] {9, 9}, new int[] {3, 3}, new int[] {2, 2}, new int[] {1, 1},
                Padding.VALID, PatchGemmTasks.MIN_IN_CHANNELS, 8);
        assertTrue(PatchGemmTasks.applies(base.geometry()));
        // One input channel fewer than the least it takes.
        assertFalse(PatchGemmTasks.applies(new Case(base.batch(), base.spatial(), base.kernel(), base.strides(),
                base.kernelDilation(), Padding.VALID, PatchGemmTasks.MIN_IN_CHANNELS - 1, 8).geometry()));
        // Stride 1 everywhere: Winograd's tiles or the row kernels.
        assertFalse(PatchGemmTasks.applies(new Case(base.batch(), base.spatial(), base.kernel(), new int[] {1, 1},
                base.kernelDilation(), Padding.VALID, 32, 8).geometry()));
        // A single tap: the 1x1 path.
        assertFalse(PatchGemmTasks.applies(new Case(base.batch(), base.spatial(), new int[] {1, 1},
                base.strides(), base.kernelDilation(), Padding.VALID, 32, 8).geometry()));
        // Input dilation and groups.
        int[] xShape = {1, 9, 9, 32};
        int[] wShape = {3, 3, 32, 8};
        assertFalse(PatchGemmTasks.applies(ConvSpec.builder().strides(2).inputDilation(2)
                .padding(Padding.pairs(new int[] {0, 0}, new int[] {0, 0})).build().resolve(xShape, wShape)));
        assertFalse(PatchGemmTasks.applies(ConvSpec.builder().strides(2).groups(2)
                .padding(Padding.VALID).build().resolve(xShape, new int[] {3, 3, 16, 8})));
    }

    @Test
    void anInfiniteWeightOverPaddingGivesNanAsTheOtherPathsDo() {
        assumeTrue(CpuKernels.pointwise() != null, "the Vector API module is not open in this JVM");
        Case c = new Case(new int[] {1}, new int[] {6, 6}, new int[] {3, 3}, new int[] {2, 2}, new int[] {1, 1},
                Padding.pairs(new int[] {1, 1}, new int[] {1, 1}), 16, 4);
        ConvGeometry g = c.geometry();
        assertTrue(PatchGemmTasks.fewPositions(g));
        float[] x = uniform(RANDOM, Tensor.elementCount(c.xShape()));
        float[] w = uniform(RANDOM, Tensor.elementCount(c.wShape()));
        // Tap (0, 0), input channel 0, output channel 1: over padding at every output in the first row and column.
        w[1] = Float.POSITIVE_INFINITY;
        float[] output = poisoned((int) Tensor.elementCount(g.outputShape()));
        CpuBackend.instance().forward(g, x, w, null, output);
        NaiveConv.Result reference = c.reference(x, w, null);
        int nan = 0;
        for (int i = 0; i < output.length; i++) {
            double expected = reference.values()[i];
            if (Double.isNaN(expected)) {
                nan++;
                assertTrue(Float.isNaN(output[i]), "output " + i + ": expected NaN, got " + output[i]);
            } else {
                assertEquals(expected, output[i], Double.isInfinite(expected) ? 0 : 1e-4 * reference.absSums()[i],
                        "output " + i);
            }
        }
        assertTrue(nan > 0, "the case must put the infinite weight over padding");
    }

    @Test
    void tf32IsTheFloat32PathOnRoundedOperands() {
        Case c = new Case(new int[] {2}, new int[] {10, 9}, new int[] {3, 3}, new int[] {2, 2}, new int[] {1, 1},
                Padding.pairs(new int[] {1, 1}, new int[] {1, 1}), 40, 70);
        ConvGeometry highest = c.geometry();
        ConvGeometry tf32 = ConvSpec.builder().strides(c.strides()).kernelDilation(c.kernelDilation())
                .padding(c.padding()).precision(Precision.TF32).build().resolve(c.xShape(), c.wShape());
        assertTrue(PatchGemmTasks.applies(tf32) && PatchGemmTasks.fewPositions(tf32));
        float[] x = uniform(RANDOM, Tensor.elementCount(c.xShape()));
        float[] w = uniform(RANDOM, Tensor.elementCount(c.wShape()));
        float[] bias = uniform(RANDOM, highest.outChannels());
        int outputLength = (int) Tensor.elementCount(highest.outputShape());
        for (int call = 0; call < 2; call++) {
            float[] rounded = poisoned(outputLength);
            CpuBackend.instance().forward(highest, Tf32.roundedCopy(x), Tf32.roundedCopy(w), bias, rounded);
            float[] got = poisoned(outputLength);
            CpuBackend.instance().forward(tf32, x, w, bias, got);
            assertArrayEquals(rounded, got, "TF32 call " + call + " on " + tf32);
        }
    }

    /** A channels-last convolution with explicit settings, and its float64 reference. */
    private record Case(int[] batch, int[] spatial, int[] kernel, int[] strides, int[] kernelDilation,
            Padding padding, int cin, int cout) {
        int[] xShape() {
            return concat(concat(batch, spatial), new int[] {cin});
        }

        int[] wShape() {
            return concat(kernel, new int[] {cin, cout});
        }

        ConvGeometry geometry() {
            return ConvSpec.builder().strides(strides).kernelDilation(kernelDilation).padding(padding).build()
                    .resolve(xShape(), wShape());
        }

        NaiveConv.Result reference(float[] x, float[] w, float[] bias) {
            return Reference.forward(Tolerance.toDouble(x), xShape(), Tolerance.toDouble(w), wShape(),
                    bias == null ? null : Tolerance.toDouble(bias), strides, ones(spatial.length), kernelDilation,
                    padding, 1);
        }
    }
}
