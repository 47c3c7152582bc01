package org.convcl.opencl.internal.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.convcl.ConvGeometry;
import org.convcl.ConvSpec;
import org.convcl.Padding;
import org.junit.jupiter.api.Test;

/**
 * The phase decomposition that lets the GEMM kernel skip input dilation's zeros, checked without a device:
 * per dim, the (output, tap) pairs the phases visit are exactly those whose dilated coordinate lands on a
 * real input element (in range or not), each reading the element the definition says, and nothing else.
 */
class PhaseDecompositionTest {

    @Test
    void phasesVisitExactlyTheTapsOnRealInputElements() {
        Random random = new Random(5);
        for (int trial = 0; trial < 2000; trial++) {
            int kernel = 1 + random.nextInt(6);
            int kernelDilation = 1 + random.nextInt(5);
            int inputDilation = 1 + random.nextInt(5);
            int stride = 1 + random.nextInt(5);
            int padLo = random.nextInt(13) - 4;
            int outputs = random.nextInt(20);
            PhaseDecomposition.Dim dim = PhaseDecomposition.Dim.of(kernel, kernelDilation, inputDilation, stride,
                    padLo, outputs);
            String what = "k" + kernel + " kdil" + kernelDilation + " idil" + inputDilation + " s" + stride + " lo"
                    + padLo + " out" + outputs;

            // The definition: (o, t) -> input element q / idil when q = o*s - lo + t*kdil is a multiple of idil.
            Map<Long, Integer> expected = new HashMap<>();
            for (int o = 0; o < outputs; o++) {
                for (int t = 0; t < kernel; t++) {
                    int q = o * stride - padLo + t * kernelDilation;
                    if (Math.floorMod(q, inputDilation) == 0) {
                        expected.put(pair(o, t), Math.floorDiv(q, inputDilation));
                    }
                }
            }
            // What the kernel visits, phase by phase.
            Map<Long, Integer> visited = new HashMap<>();
            int phaseOutputs = 0;
            for (int ph = 0; ph < dim.phases(); ph++) {
                PhaseDecomposition.Phase phase = dim.phase(ph);
                assertTrue(phase.taps() <= dim.maxTaps(), what);
                phaseOutputs += phase.outputs();
                for (int j = 0; j < phase.outputs(); j++) {
                    for (int u = 0; u < phase.taps(); u++) {
                        int o = ph + j * dim.phases();
                        int t = phase.firstTap() + u * dim.tapStep();
                        Integer previous = visited.put(pair(o, t), phase.origin() + j * dim.phaseStride()
                                + u * dim.tapDilation());
                        assertEquals(null, previous, what + ": (" + o + ", " + t + ") visited twice");
                    }
                }
            }
            assertEquals(outputs, phaseOutputs, what + ": every output belongs to one phase");
            assertEquals(expected, visited, what);
        }
    }

    @Test
    void upsamplingByTwoDoesAQuarterOfTheDenseWork() {
        // The suite's upsample_idil2: 4x4 kernel over a 2x-dilated 32x32 input, padding 2.
        ConvGeometry g = ConvSpec.builder().inputDilation(2).padding(Padding.pairs(new int[][] {{2, 2}, {2, 2}}))
                .build().resolve(new int[] {1, 32, 32, 8}, new int[] {4, 4, 8, 8});
        PhaseDecomposition.Dim[] dims = PhaseDecomposition.of(g);
        assertEquals(4, PhaseDecomposition.phaseCount(dims));
        long dense = (long) g.outputSpatialSize() * g.kernelTaps();
        assertEquals(dense / 4, PhaseDecomposition.visitedPairs(dims));
        assertEquals(4, PhaseDecomposition.maxTaps(dims));
    }

    @Test
    void withoutInputDilationThereIsOnePhaseWithEveryTap() {
        ConvGeometry g = ConvSpec.builder().strides(2).kernelDilation(3).build()
                .resolve(new int[] {2, 9, 11, 3}, new int[] {3, 2, 3, 5});
        PhaseDecomposition.Dim[] dims = PhaseDecomposition.of(g);
        assertEquals(1, PhaseDecomposition.phaseCount(dims));
        assertEquals((long) g.outputSpatialSize() * g.kernelTaps(), PhaseDecomposition.visitedPairs(dims));
    }

    private static long pair(int o, int t) {
        return ((long) o << 32) | t;
    }
}
