package org.convcl.backend.cpu.internal;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The input patches of a few consecutive output positions of one row, each laid out as one contiguous
 * reduction: for position {@code o}, every (kernel tap, input channel) step in the kernel's own order, with
 * zeros where the tap reads padding or an inserted zero. An RGB stem's 7x7x3 patch becomes 147 consecutive
 * floats, so a register block's reduction is one straight loop instead of 7 list entries with their set-up.
 *
 * <p>Uses the Vector API: loaded only with VectorConvKernel.
 *
 * <p>Only for few input channels and a small patch ({@link #applies}): there the per-block cost of listing taps
 * dominates, and copying the patches (each input value once per tap that reads it) is cheap beside the FMAs of
 * every output channel that reuse it. A panel covers at most {@link #MAX_FLOATS} floats, so memory is bounded by
 * the patch size and never grows with the image (this is not an im2col of the whole input).
 */
final class PatchPanel {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();
    /** At most this many input channels per group: beyond it a tap's channels already make a long run. */
    static final int MAX_CHANNELS = 4;
    /** At most this many reduction steps per patch (an 11x11x4 patch has 484). */
    static final int MAX_STEPS = 512;
    /**
     * A panel's capacity, 64 KiB: a segment of positions stays in a core's L2 beside its kernel panel (a stem row,
     * 112 patches of 147 floats, nearly fills it; 4 to 16 positions per segment measured the same).
     */
    static final int MAX_FLOATS = 1 << 14;

    /**
     * Each thread's panel, reused across rows and calls: a fresh one per row would be zeroed by the allocator
     * once more than {@link #fill} zeroes it, a cost of the same order as the row's copies.
     */
    private static final ThreadLocal<float[]> PANELS = ThreadLocal.withInitial(() -> new float[0]);

    private PatchPanel() {
    }

    /** The calling thread's panel, grown to at least {@code floats} (at most {@link #MAX_FLOATS} plus a patch). */
    static float[] threadPanel(int floats) {
        float[] panel = PANELS.get();
        if (panel.length < floats) {
            panel = new float[floats];
            PANELS.set(panel);
        }
        return panel;
    }

    /** Whether the geometry's rows are computed through panels. */
    static boolean applies(ConvRows rows, int minOutChannels) {
        return rows.groups == 1 && rows.inChannels <= MAX_CHANNELS && rows.outChannels >= minOutChannels
                && steps(rows) <= MAX_STEPS;
    }

    /** Reduction steps per patch: every kernel tap times the input channels. */
    static int steps(ConvRows rows) {
        return rows.outerTaps * rows.kernelLast * rows.inChannels;
    }

    /** Positions per panel segment: a multiple of 4 that keeps a panel within {@link #MAX_FLOATS}. */
    static int segmentPositions(ConvRows rows) {
        return Math.max(4, MAX_FLOATS / steps(rows) & ~3);
    }

    /**
     * Writes the patches of positions {@code [from, to)} of the row whose valid outer taps are listed in scratch
     * ({@link ConvRows#validOuterTaps}, {@code validTaps} of them) into {@code panel}, position after position,
     * {@link #steps} floats each.
     *
     * <p>This copy is the panel's whole cost, so the common case is kept lean: inside the row's interior (every
     * tap along the last dim reads input, see {@link ConvRows#lastInteriorFrom}) a tap row's patch is one
     * contiguous stretch of the input, copied with two overlapping vectors when it is 16 to 32 floats long (an
     * RGB stem's is 21); zeros are written only where some tap reads padding.
     */
    static void fill(ConvRows rows, int validTaps, Scratch scratch, int inputBase, int from, int to, float[] input,
            float[] panel) {
        int steps = steps(rows);
        int interiorFrom = Math.max(from, Math.min(to, rows.lastInteriorFrom));
        int interiorTo = Math.max(interiorFrom, Math.min(to, rows.lastInteriorTo));
        if (interiorFrom < interiorTo && rows.lastSource(interiorFrom, rows.kernelLast - 1)
                != rows.lastSource(interiorFrom, 0) + rows.kernelLast - 1) {
            interiorTo = interiorFrom; // kernel dilation: a tap row's patch is not one stretch of the input
        }
        if (validTaps < rows.outerTaps) {
            // Some outer taps read padding for the whole row: their parts of every patch stay zero.
            java.util.Arrays.fill(panel, 0, (to - from) * steps, 0f);
        }
        for (int o = from; o < interiorFrom; o++) {
            fillEdgePosition(rows, validTaps, scratch, inputBase, o, input, panel, (o - from) * steps);
        }
        if (interiorFrom < interiorTo) {
            fillInterior(rows, validTaps, scratch, inputBase, interiorFrom, interiorTo, input, panel,
                    (interiorFrom - from) * steps);
        }
        for (int o = interiorTo; o < to; o++) {
            fillEdgePosition(rows, validTaps, scratch, inputBase, o, input, panel, (o - from) * steps);
        }
    }

    private static void fillInterior(ConvRows rows, int validTaps, Scratch scratch, int inputBase, int from, int to,
            float[] input, float[] panel, int at) {
        int cin = rows.inChannels;
        int length = rows.kernelLast * cin; // a tap row's patch, contiguous in the input
        int steps = steps(rows);
        int step = rows.lastStrideElements();
        int first = rows.lastSource(from, 0); // the interior's rule: position o's tap 0 reads first + (o - from) * stride
        for (int i = 0; i < validTaps; i++) {
            int source = inputBase + (scratch.sourceOffset[i] + first) * cin;
            int target = at + scratch.tapIndex[i] * length;
            if (length >= LANES && length <= 2 * LANES) {
                int tail = length - LANES;
                for (int o = from; o < to; o++) {
                    FloatVector.fromArray(SPECIES, input, source).intoArray(panel, target);
                    FloatVector.fromArray(SPECIES, input, source + tail).intoArray(panel, target + tail);
                    source += step;
                    target += steps;
                }
            } else {
                for (int o = from; o < to; o++) {
                    System.arraycopy(input, source, panel, target, length);
                    source += step;
                    target += steps;
                }
            }
        }
    }

    /** One position's patch where some taps along the last dim read padding: zeros, then the runs that read input. */
    private static void fillEdgePosition(ConvRows rows, int validTaps, Scratch scratch, int inputBase, int o,
            float[] input, float[] panel, int patchBase) {
        int cin = rows.inChannels;
        int kernelLast = rows.kernelLast;
        java.util.Arrays.fill(panel, patchBase, patchBase + steps(rows), 0f);
        for (int i = 0; i < validTaps; i++) {
            int rowSource = inputBase + scratch.sourceOffset[i] * cin;
            int at = patchBase + scratch.tapIndex[i] * kernelLast * cin;
            // Taps whose sources follow one another are copied together.
            int t = 0;
            while (t < kernelLast) {
                int s = rows.lastSource(o, t);
                if (s < 0) {
                    t++;
                    continue;
                }
                int run = 1;
                while (t + run < kernelLast && rows.lastSource(o, t + run) == s + run) {
                    run++;
                }
                System.arraycopy(input, rowSource + s * cin, panel, at + t * cin, run * cin);
                t += run;
            }
        }
    }
}
