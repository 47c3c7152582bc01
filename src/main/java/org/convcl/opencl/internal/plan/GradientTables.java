package org.convcl.opencl.internal.plan;

import org.convcl.ConvGeometry;
import org.convcl.EdgePadding;
import org.convcl.backend.internal.IntMath;

/**
 * The per-dim index tables the backward kernels and the any-rank forward kernel read, built on the host once per
 * plan from the geometry (a few ints per spatial coordinate, never per element): where each (output position, tap)
 * pair reads for {@code kernel_gradient.cl} and {@code conv_general.cl}, and an {@link EdgePadding}'s copy table and its inverse for
 * {@code edge_padding.cl}. Each table set is one concatenated {@code int[]} plus four ints per dim that
 * describe it, in the layout the kernel's comment gives. Stateless.
 */
final class GradientTables {
    private GradientTables() {
    }

    /** Concatenated per-dim tables and their four-ints-per-dim description. */
    record Tables(int[] values, int[] dims) {
    }

    /** Per dim: output size, kernel size, input stride in pixels, table offset; tables from {@link ConvGeometry#sourceIndexTable}. */
    static Tables sources(ConvGeometry g) {
        int rank = g.rank();
        int[] outSpatial = g.outSpatial();
        int[] kernelSpatial = g.kernelSpatial();
        int[][] tables = new int[rank][];
        for (int d = 0; d < rank; d++) {
            tables[d] = g.sourceIndexTable(d);
        }
        int[] strides = IntMath.rowMajorStrides(g.inSpatial());
        int[] dims = new int[4 * rank];
        for (int d = 0; d < rank; d++) {
            dims[4 * d] = outSpatial[d];
            dims[4 * d + 1] = kernelSpatial[d];
            dims[4 * d + 2] = strides[d];
        }
        return new Tables(concatenate(tables, dims, 3), dims);
    }

    /** Per dim: padded size, 0, source stride in pixels, table offset; tables from {@link EdgePadding#sourceIndexTable}. */
    static Tables padCopies(EdgePadding e) {
        int rank = e.rank();
        int[] padded = e.paddedSpatial();
        int[] strides = IntMath.rowMajorStrides(e.sourceSpatial());
        int[][] tables = new int[rank][];
        int[] dims = new int[4 * rank];
        for (int d = 0; d < rank; d++) {
            tables[d] = e.sourceIndexTable(d);
            dims[4 * d] = padded[d];
            dims[4 * d + 2] = strides[d];
        }
        return new Tables(concatenate(tables, dims, 3), dims);
    }

    /** The fold's tables: CSR inverses of the copy tables, starts and copies concatenated separately. */
    record FoldTables(int[] starts, int[] copies, int[] dims) {
    }

    /**
     * Per dim: source size, padded stride in pixels, starts offset, copies offset. The padded coordinates
     * copying source coordinate s of dim d are {@code copies[copiesOffset + starts[startsOffset + s] ..
     * copiesOffset + starts[startsOffset + s + 1])}, in increasing order.
     */
    static FoldTables foldCopies(EdgePadding e) {
        int rank = e.rank();
        int[] source = e.sourceSpatial();
        int[] paddedStrides = IntMath.rowMajorStrides(e.paddedSpatial());
        int[][] starts = new int[rank][];
        int[][] copies = new int[rank][];
        int[] dims = new int[4 * rank];
        for (int d = 0; d < rank; d++) {
            int[] table = e.sourceIndexTable(d);
            int[] start = new int[source[d] + 1];
            for (int index : table) {
                if (index >= 0) {
                    start[index + 1]++;
                }
            }
            for (int s = 0; s < source[d]; s++) {
                start[s + 1] += start[s];
            }
            int[] fill = start.clone();
            int[] list = new int[start[source[d]]];
            for (int q = 0; q < table.length; q++) {
                if (table[q] >= 0) {
                    list[fill[table[q]]++] = q;
                }
            }
            starts[d] = start;
            copies[d] = list;
            dims[4 * d] = source[d];
            dims[4 * d + 1] = paddedStrides[d];
        }
        return new FoldTables(concatenate(starts, dims, 2), concatenate(copies, dims, 3), dims);
    }

    /** Concatenates {@code tables}, writing each one's offset into {@code dims[4 * d + offsetSlot]}. */
    private static int[] concatenate(int[][] tables, int[] dims, int offsetSlot) {
        int total = 0;
        for (int[] table : tables) {
            total = Math.addExact(total, table.length);
        }
        int[] values = new int[total];
        int position = 0;
        for (int d = 0; d < tables.length; d++) {
            System.arraycopy(tables[d], 0, values, position, tables[d].length);
            dims[4 * d + offsetSlot] = position;
            position += tables[d].length;
        }
        return values;
    }
}
