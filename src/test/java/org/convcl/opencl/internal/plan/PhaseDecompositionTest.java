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

    /**
     * Issue 23: a residue period far above the outputs (the input gradient of a stride-65536 layer has input
     * dilation 65536; a one-pixel input may be dilated by anything) made the phase count a product of periods
     * that wrapped around in an int (46341^2, 65536^2, 1291^3, 2048^3), so the kernel's grid was negative (a
     * hang) or empty (garbage). The phases are bounded by the outputs, the tap step by the kernel, and the
     * visits are still exactly the definition's, computed here in longs.
     */
    @Test
    void hugePeriodsAreBoundedByTheWorkAndVisitTheSameTaps() {
        int max = Integer.MAX_VALUE;
        int[][] dims = {
            // kernel, kernelDilation, inputDilation, stride, padLo, inputLength, padHi
            {3, 1, 46341, 1, 2, 1, 2}, {3, 1, max, 1, 2, 1, 2}, {3, 1, 65536, 1, 1, 1, 8}, {3, 1, 2048, 1, 1, 1, 4},
            {2, 536870910, 1 << 30, 1 << 30, 0, 2, 0}, {1, 1, max - 2, max - 3, 0, 2, 0},
            {3, 7, 1 << 27, (1 << 27) - 1, 2, 8, 2}};
        for (int[] dim : dims) {
            int length = dim[5];
            ConvGeometry g = ConvGeometry.explicit(new int[] {1}, new int[] {length, length}, 2,
                    new int[] {dim[0], dim[0]}, 2, 1, new int[] {dim[3], dim[3]}, new int[] {dim[2], dim[2]},
                    new int[] {dim[1], dim[1]}, new int[] {dim[4], dim[4]}, new int[] {dim[6], dim[6]},
                    org.convcl.EdgeMode.ZERO);
            PhaseDecomposition.Dim[] decomposed = PhaseDecomposition.of(g);
            long phases = PhaseDecomposition.phaseCount(decomposed);
            String what = java.util.Arrays.toString(dim) + " over " + g.outputSpatialSize() + " outputs";
            assertTrue(phases >= 1 && phases <= Math.max(1, g.outputSpatialSize()), what + ": " + phases + " phases");
            PhaseDecomposition.Dim d = decomposed[2];
            assertTrue(d.tapStep() <= d.kernel(), what);
            Map<Long, Long> expected = new HashMap<>();
            for (int o = 0; o < d.outputs(); o++) {
                for (int t = 0; t < d.kernel(); t++) {
                    long q = (long) o * d.stride() - d.padLo() + (long) t * d.kernelDilation();
                    if (Math.floorMod(q, (long) d.inputDilation()) == 0) {
                        expected.put(pair(o, t), Math.floorDiv(q, (long) d.inputDilation()));
                    }
                }
            }
            Map<Long, Long> visited = new HashMap<>();
            for (int ph = 0; ph < d.phases(); ph++) {
                PhaseDecomposition.Phase phase = d.phase(ph);
                for (int j = 0; j < phase.outputs(); j++) {
                    for (int u = 0; u < phase.taps(); u++) {
                        visited.put(pair(ph + j * d.phases(), phase.firstTap() + u * d.tapStep()),
                                phase.origin() + (long) j * d.phaseStride() + (long) u * d.tapDilation());
                    }
                }
            }
            assertEquals(expected, visited, what);
        }
    }

    private static long pair(int o, int t) {
        return ((long) o << 32) | t;
    }
}
