package org.convcl.backend.cpu.internal;

import org.convcl.ConvGeometry;
import org.convcl.backend.internal.IntMath;

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
    /**
     * {@code table[d][o * k[d] + t]}: input coordinate of dim d, or -1; null for a dim whose table would be
     * larger than {@link #MAX_TABLE_ENTRIES}, where the coordinate is computed on each use instead.
     */
    final int[][] table;
    /** Tables beyond this size (a very long 1-d output with a very long kernel) are not worth their memory. */
    static final long MAX_TABLE_ENTRIES = 1 << 20;
    private final int[] inSpatial;
    private final int[] strides;
    private final int[] inputDilation;
    private final int[] kernelDilation;
    private final int[] padLo;
    private final org.convcl.EdgeMode edgeMode;
    /** Row-major stride of each input spatial dim, in positions. */
    final int[] inputStride;
    /**
     * Positions along the last dim whose taps hit real input the same way repeat with this period: input
     * dilation / gcd(stride, input dilation) (1 without input dilation). Positions a period apart read the
     * same taps, so a register block made of them multiplies no inserted zero that one of them skips.
     */
    final int lastPhasePeriod;
    private final int[] outSpatial;
    private final int[] kernelSpatial;
    /**
     * The positions along the last dim, {@code [lastInteriorFrom, lastInteriorTo)}, whose every tap reads input
     * coordinate {@code o * stride + t * dilation - padLo} inside the input (no padding, no inserted zeros):
     * from one such position to the next, every tap's input moves by exactly one stride. Empty with input
     * dilation along the last dim.
     */
    final int lastInteriorFrom;
    final int lastInteriorTo;

    public ConvRows(ConvGeometry g) {
        this(g, MAX_TABLE_ENTRIES);
    }

    /** As {@link #ConvRows(ConvGeometry)}, with a chosen table size limit (tests use 0: no tables). */
    ConvRows(ConvGeometry g, long maxTableEntries) {
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
        inSpatial = g.inSpatial();
        strides = g.strides();
        inputDilation = g.inputDilation();
        kernelDilation = g.kernelDilation();
        int lastDilation = inputDilation[rank - 1];
        lastPhasePeriod = lastDilation / IntMath.gcd(strides[rank - 1], lastDilation);
        padLo = g.padLo();
        edgeMode = g.edgeMode();
        table = new int[rank][];
        for (int d = 0; d < rank; d++) {
            if ((long) outSpatial[d] * kernelSpatial[d] <= maxTableEntries) {
                table[d] = g.sourceIndexTable(d);
            }
        }
        inputStride = IntMath.rowMajorStrides(inSpatial);
        int[] interior = lastInterior();
        lastInteriorFrom = interior[0];
        lastInteriorTo = interior[1];
    }

    /** {@code [from, to)} of {@link #lastInteriorFrom}, checked against the source rule at both ends. */
    private int[] lastInterior() {
        int d = rank - 1;
        if (inputDilation[d] != 1 || outLast == 0 || kernelLast == 0) {
            return new int[] {0, 0};
        }
        long reach = (long) (kernelLast - 1) * kernelDilation[d];
        long from = Math.max(0, Math.floorDiv(padLo[d] + strides[d] - 1L, strides[d]));
        long to = Math.min(outLast, Math.floorDiv(inSpatial[d] - 1L - reach + padLo[d], strides[d]) + 1);
        if (from >= to) {
            return new int[] {0, 0};
        }
        // The arithmetic above is the rule for in-range coordinates; both ends are checked against the geometry's
        // own source rule, so that a mode that maps even in-range coordinates elsewhere only loses the shortcut.
        for (long o : new long[] {from, to - 1}) {
            for (int t = 0; t < kernelLast; t++) {
                if (source(d, (int) o, t) != o * strides[d] + (long) t * kernelDilation[d] - padLo[d]) {
                    return new int[] {0, 0};
                }
            }
        }
        return new int[] {(int) from, (int) to};
    }

    /** Input elements (of all channels) one output step along the last dim moves every tap by, when interior. */
    int lastStrideElements() {
        return strides[rank - 1] * inChannels;
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
                int index = source(d, o, t);
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
        return source(rank - 1, o, t);
    }

    /** Input coordinate of dim d read by output position o through tap t, or -1 (see the geometry). */
    private int source(int d, int o, int t) {
        int[] dimTable = table[d];
        if (dimTable != null) {
            return dimTable[o * kernelSpatial[d] + t];
        }
        long q = (long) o * strides[d] + (long) t * kernelDilation[d] - padLo[d];
        return q < Integer.MIN_VALUE || q > Integer.MAX_VALUE ? -1
                : edgeMode.sourceIndex((int) q, inSpatial[d], inputDilation[d]);
    }
}
