package org.convcl.backend.cpu;

import org.convcl.ConvGeometry;

/**
 * A geometry cut into output rows for the CPU kernels: a row is one batch element and one index over every
 * output dim but the last, and holds {@code outLast} positions along the last dim. Precomputes, per spatial
 * dim, which input coordinate each (output position, kernel tap) pair reads ({@code -1} for a zero of the
 * padding or of input dilation), so that every padding mode and both dilations reduce to table lookups.
 *
 * <p>Immutable and shareable between threads.
 */
public final class ConvRows {
    final ConvGeometry geometry;
    final int rank;
    final int batch;
    /** Output positions per row (the last output dim). */
    final int outLast;
    /** Rows per batch element: the product of every output dim but the last. */
    final int outerCount;
    final int kernelLast;
    /** Kernel taps over every dim but the last. */
    final int outerTaps;
    final int inChannels;
    final int outChannels;
    final int groups;
    final int inPerGroup;
    final int outPerGroup;
    final int inputSpatialSize;
    final int outputSpatialSize;
    /** {@code table[d][o * k[d] + t]}: input coordinate of dim d, or -1. */
    final int[][] table;
    /** Row-major stride of each input spatial dim, in positions. */
    final int[] inputStride;
    private final int[] outSpatial;
    private final int[] kernelSpatial;

    public ConvRows(ConvGeometry g) {
        geometry = g;
        rank = g.rank();
        batch = g.batch();
        outSpatial = g.outSpatial();
        kernelSpatial = g.kernelSpatial();
        outLast = outSpatial[rank - 1];
        kernelLast = kernelSpatial[rank - 1];
        int outer = 1;
        int taps = 1;
        for (int d = 0; d < rank - 1; d++) {
            outer *= outSpatial[d];
            taps *= kernelSpatial[d];
        }
        outerCount = outer;
        outerTaps = taps;
        inChannels = g.inChannels();
        outChannels = g.outChannels();
        groups = g.groups();
        inPerGroup = g.inChannelsPerGroup();
        outPerGroup = g.outChannelsPerGroup();
        inputSpatialSize = g.inputSpatialSize();
        outputSpatialSize = g.outputSpatialSize();
        table = new int[rank][];
        for (int d = 0; d < rank; d++) {
            table[d] = g.sourceIndexTable(d);
        }
        int[] inSpatial = g.inSpatial();
        inputStride = new int[rank];
        int stride = 1;
        for (int d = rank - 1; d >= 0; d--) {
            inputStride[d] = stride;
            stride *= inSpatial[d];
        }
    }

    /** Rows in the whole output (batch times rows per element). */
    public int rowCount() {
        return batch * outerCount;
    }

    /**
     * For row {@code outer} (an index over the output dims but the last), lists the outer kernel taps that
     * read real input: {@code sourceOffset[i]} is the input spatial offset those dims contribute and
     * {@code tapIndex[i]} the flat index of the outer tap. Returns how many there are. Both arrays need
     * {@link #outerTaps} entries.
     */
    int validOuterTaps(int outer, int[] sourceOffset, int[] tapIndex) {
        int count = 0;
        for (int tap = 0; tap < outerTaps; tap++) {
            int remainingOuter = outer;
            int remainingTap = tap;
            int offset = 0;
            boolean valid = true;
            for (int d = rank - 2; d >= 0; d--) {
                int o = remainingOuter % outSpatial[d];
                int t = remainingTap % kernelSpatial[d];
                remainingOuter /= outSpatial[d];
                remainingTap /= kernelSpatial[d];
                int index = table[d][o * kernelSpatial[d] + t];
                if (index < 0) {
                    valid = false;
                    break;
                }
                offset += index * inputStride[d];
            }
            if (valid) {
                sourceOffset[count] = offset;
                tapIndex[count] = tap;
                count++;
            }
        }
        return count;
    }

    /** Input coordinate along the last dim read by output position {@code o} through tap {@code t}, or -1. */
    int lastSource(int o, int t) {
        return table[rank - 1][o * kernelLast + t];
    }
}
