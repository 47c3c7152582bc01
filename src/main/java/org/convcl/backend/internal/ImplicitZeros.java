package org.convcl.backend.internal;

import java.util.Arrays;
import org.convcl.ConvGeometry;
import org.convcl.EdgeMode;

/**
 * The products with the implicit zeros of padding and input dilation that the Java path's kernels skip for
 * speed. jax pads and dilates by inserting zeros into the operand ({@code lax.pad}), so every (output position,
 * tap) pair of a zero-padded convolution forms a product. With a zero operand that product is a signed zero,
 * which changes no sum (sums start at +0), unless the other operand is NaN or infinite: then it is
 * {@code 0 * Inf = NaN}. So the skipped products matter only through non-finite weights (the forward pass, and
 * the input gradient, which is the forward pass of the adjoint geometry over dy's padding and stride holes) and
 * non-finite output gradients (the kernel gradient). These methods write NaN exactly where such a product
 * falls, after the fast kernels have run; a call without non-finite values, all but rare ones, pays one scan
 * of the weights or of dy.
 *
 * <p>Wrapped and mirrored padding read real elements, never a zero: nothing to do there. Stateless.
 */
public final class ImplicitZeros {
    private ImplicitZeros() {
    }

    /**
     * Sets to NaN each output {@code (b, o, co)} for which some tap reads a zero of the padding or of input
     * dilation while a weight {@code kernel[t][ci][co]} of that tap is NaN or infinite.
     */
    public static void forward(ConvGeometry g, float[] kernel, float[] output) {
        if (g.edgeMode() != EdgeMode.ZERO || g.outputSpatialSize() == 0 || g.batch() == 0) {
            return;
        }
        int cout = g.outChannels();
        int tapLength = g.inChannelsPerGroup() * cout;
        if (tapLength == 0) {
            return;
        }
        boolean[] badColumns = null;
        for (int i = 0; i < kernel.length; i++) {
            if (!Float.isFinite(kernel[i])) {
                if (badColumns == null) {
                    badColumns = new boolean[g.kernelTaps() * cout];
                }
                badColumns[i / tapLength * cout + i % cout] = true;
            }
        }
        if (badColumns == null) {
            return;
        }
        int rank = g.rank();
        int[] kernelSpatial = g.kernelSpatial();
        int[] outSpatial = g.outSpatial();
        int outPositions = g.outputSpatialSize();
        int[] tap = new int[rank];
        for (int t = 0; t < g.kernelTaps(); t++, SourceTables.increment(tap, kernelSpatial)) {
            int[] columns = columnsOf(badColumns, t * cout, cout);
            if (columns.length == 0) {
                continue;
            }
            boolean[][] zero = zeroReads(g, tap);
            if (zero == null) {
                continue;
            }
            int[] position = new int[rank];
            for (int p = 0; p < outPositions; p++, SourceTables.increment(position, outSpatial)) {
                if (readsZero(zero, position)) {
                    for (int b = 0; b < g.batch(); b++) {
                        int base = (b * outPositions + p) * cout;
                        for (int co : columns) {
                            output[base + co] = Float.NaN;
                        }
                    }
                }
            }
        }
    }

    /**
     * Sets to NaN each kernel gradient {@code dK[t][ci][co]} for which some output {@code (b, o)} whose
     * {@code dy[b][o][co]} is NaN or infinite reads a zero of the padding or of input dilation through tap t
     * (every {@code ci} of the group: the zero is a whole input pixel).
     */
    public static void kernelGradient(ConvGeometry g, float[] outputGradient, float[] kernelGradient) {
        if (g.edgeMode() != EdgeMode.ZERO || g.inChannelsPerGroup() == 0) {
            return;
        }
        int cout = g.outChannels();
        int outPositions = g.outputSpatialSize();
        // Per output position (over the batch), the channels whose gradient is non-finite somewhere.
        boolean[] bad = null;
        boolean[] badPosition = null;
        for (int i = 0; i < outputGradient.length; i++) {
            if (!Float.isFinite(outputGradient[i])) {
                if (bad == null) {
                    bad = new boolean[outPositions * cout];
                    badPosition = new boolean[outPositions];
                }
                int p = i / cout % outPositions;
                bad[p * cout + i % cout] = true;
                badPosition[p] = true;
            }
        }
        if (bad == null) {
            return;
        }
        int rank = g.rank();
        int cinPerGroup = g.inChannelsPerGroup();
        int[] kernelSpatial = g.kernelSpatial();
        int[] outSpatial = g.outSpatial();
        int[] tap = new int[rank];
        boolean[] columns = new boolean[cout];
        for (int t = 0; t < g.kernelTaps(); t++, SourceTables.increment(tap, kernelSpatial)) {
            boolean[][] zero = zeroReads(g, tap);
            if (zero == null) {
                continue;
            }
            Arrays.fill(columns, false);
            int[] position = new int[rank];
            for (int p = 0; p < outPositions; p++, SourceTables.increment(position, outSpatial)) {
                if (badPosition[p] && readsZero(zero, position)) {
                    for (int co = 0; co < cout; co++) {
                        columns[co] |= bad[p * cout + co];
                    }
                }
            }
            for (int co = 0; co < cout; co++) {
                if (columns[co]) {
                    for (int ci = 0; ci < cinPerGroup; ci++) {
                        kernelGradient[(t * cinPerGroup + ci) * cout + co] = Float.NaN;
                    }
                }
            }
        }
    }

    /**
     * Per dim, which output coordinates read a zero through tap {@code tap}; null when none does in any dim.
     * Coordinates are computed in long arithmetic, as the row tables do where they have none.
     */
    private static boolean[][] zeroReads(ConvGeometry g, int[] tap) {
        int rank = g.rank();
        int[] outSpatial = g.outSpatial();
        int[] inSpatial = g.inSpatial();
        int[] strides = g.strides();
        int[] inputDilation = g.inputDilation();
        int[] kernelDilation = g.kernelDilation();
        int[] padLo = g.padLo();
        boolean[][] zero = new boolean[rank][];
        boolean any = false;
        for (int d = 0; d < rank; d++) {
            zero[d] = new boolean[outSpatial[d]];
            for (int o = 0; o < outSpatial[d]; o++) {
                long q = (long) o * strides[d] + (long) tap[d] * kernelDilation[d] - padLo[d];
                zero[d][o] = q < 0 || q > Integer.MAX_VALUE
                        || EdgeMode.ZERO.sourceIndex((int) q, inSpatial[d], inputDilation[d]) < 0;
                any |= zero[d][o];
            }
        }
        return any ? zero : null;
    }

    private static boolean readsZero(boolean[][] zero, int[] position) {
        for (int d = 0; d < position.length; d++) {
            if (zero[d][position[d]]) {
                return true;
            }
        }
        return false;
    }

    private static int[] columnsOf(boolean[] flags, int from, int count) {
        int n = 0;
        for (int i = 0; i < count; i++) {
            n += flags[from + i] ? 1 : 0;
        }
        int[] columns = new int[n];
        n = 0;
        for (int i = 0; i < count; i++) {
            if (flags[from + i]) {
                columns[n++] = i;
            }
        }
        return columns;
    }
}
