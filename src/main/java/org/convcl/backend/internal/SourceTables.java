package org.convcl.backend.internal;

import org.convcl.ConvGeometry;

/**
 * Per spatial dim, the input coordinate each (output position, kernel tap) pair reads ({@link
 * ConvGeometry#sourceIndexTable}), and the row-major strides of the input's spatial dims: everything the
 * host loops need to find the input element behind a product, whatever the padding, strides and dilations.
 */
public final class SourceTables {
    final int[] outSpatial;
    final int[] kernelSpatial;
    final int outPositions;
    final int inPositions;
    private final int[][] source;
    private final int[] inputStride;

    SourceTables(ConvGeometry g) {
        int rank = g.rank();
        outSpatial = g.outSpatial();
        kernelSpatial = g.kernelSpatial();
        outPositions = g.outputSpatialSize();
        inPositions = g.inputSpatialSize();
        source = new int[rank][];
        for (int d = 0; d < rank; d++) {
            source[d] = g.sourceIndexTable(d);
        }
        int[] inSpatial = g.inSpatial();
        inputStride = IntMath.rowMajorStrides(inSpatial);
    }

    /** Flat spatial input position read by output {@code outPos} through tap {@code tap}, or -1. */
    int sourcePosition(int[] outPos, int[] tap) {
        int position = 0;
        for (int d = 0; d < outPos.length; d++) {
            int index = source[d][outPos[d] * kernelSpatial[d] + tap[d]];
            if (index < 0) {
                return -1;
            }
            position += index * inputStride[d];
        }
        return position;
    }

    /** Row-major multi-index of {@code flat} within {@code sizes}. */
    static void decode(int flat, int[] sizes, int[] index) {
        for (int d = sizes.length - 1; d >= 0; d--) {
            index[d] = flat % sizes[d];
            flat /= sizes[d];
        }
    }

    /** Advances a row-major multi-index by one; returns false when it wrapped back to all zeros. */
    static boolean increment(int[] index, int[] sizes) {
        for (int d = sizes.length - 1; d >= 0; d--) {
            if (++index[d] < sizes[d]) {
                return true;
            }
            index[d] = 0;
        }
        return false;
    }
}
