package org.convcl.backend.internal;

import java.util.Arrays;
import org.convcl.EdgePadding;

/**
 * Where a fold of an {@link EdgePadding} reads: for each source position, the padded positions that copy it. A
 * padded coordinate copies at most one source coordinate per dim, so each dim's table inverts to a short list per
 * source coordinate (CSR), and a source position's padded positions are the lists' product, visited odometer style
 * (the last dim fastest). The float32 and the 16-bit folds both add the rows in this order, which is what keeps
 * their float32 sums equal bit for bit. Immutable; a {@link Walk} is one task's.
 */
final class FoldIndex {
    private final int rank;
    private final int channels;
    private final int paddedPositions;
    private final int sourcePositions;
    private final int[] sourceSpatial;
    private final int[] paddedStride;
    /** Per dim: padded coordinates copying source coordinate s are copies[d][starts[d][s] .. starts[d][s + 1]). */
    private final int[][] starts;
    private final int[][] copies;
    /** The most padded positions one source position has: the product of the dims' longest lists. */
    private final int maxRows;

    FoldIndex(EdgePadding e) {
        rank = e.rank();
        channels = e.channels();
        sourceSpatial = e.sourceSpatial();
        paddedStride = IntMath.rowMajorStrides(e.paddedSpatial());
        int positions = 1;
        for (int size : e.paddedSpatial()) {
            positions *= size;
        }
        paddedPositions = positions;
        int sources = 1;
        for (int size : sourceSpatial) {
            sources *= size;
        }
        sourcePositions = sources;
        starts = new int[rank][];
        copies = new int[rank][];
        int rows = 1;
        for (int d = 0; d < rank; d++) {
            invert(e.sourceIndexTable(d), sourceSpatial[d], d);
            int longest = 0;
            for (int s = 0; s < sourceSpatial[d]; s++) {
                longest = Math.max(longest, starts[d][s + 1] - starts[d][s]);
            }
            rows *= longest;
        }
        maxRows = rows;
    }

    /** CSR inverse of dim {@code d}'s table into {@link #starts} and {@link #copies}. */
    private void invert(int[] table, int sourceLength, int d) {
        int[] start = new int[sourceLength + 1];
        for (int index : table) {
            if (index >= 0) {
                start[index + 1]++;
            }
        }
        for (int s = 0; s < sourceLength; s++) {
            start[s + 1] += start[s];
        }
        int[] fill = Arrays.copyOf(start, sourceLength);
        int[] list = new int[start[sourceLength]];
        for (int q = 0; q < table.length; q++) {
            if (table[q] >= 0) {
                list[fill[table[q]]++] = q;
            }
        }
        starts[d] = start;
        copies[d] = list;
    }

    /** The source positions of one batch entry. */
    int sourcePositions() {
        return sourcePositions;
    }

    /** A walk over batch entry {@code batchIndex}'s source positions from {@code firstPosition} on. */
    Walk walk(int batchIndex, int firstPosition) {
        return new Walk(batchIndex, firstPosition);
    }

    /** One task's cursor over consecutive source positions. Not thread-safe. */
    final class Walk {
        /** The current source position's padded rows, as element offsets of their first channel. */
        final int[] rows = new int[maxRows];
        private final int batchBase;
        private final int[] position = new int[rank];
        private final int[] cursor = new int[rank];

        private Walk(int batchIndex, int firstPosition) {
            batchBase = batchIndex * paddedPositions;
            SourceTables.decode(firstPosition, sourceSpatial, position);
        }

        /** Lists the current source position's padded rows into the first entries of {@link #rows}; their count. */
        int list() {
            boolean any = true;
            for (int d = 0; d < rank; d++) {
                cursor[d] = starts[d][position[d]];
                any &= cursor[d] < starts[d][position[d] + 1];
            }
            int count = 0;
            while (any) {
                int q = 0;
                for (int d = 0; d < rank; d++) {
                    q += copies[d][cursor[d]] * paddedStride[d];
                }
                rows[count++] = (batchBase + q) * channels;
                any = false;
                for (int d = rank - 1; d >= 0; d--) {
                    if (++cursor[d] < starts[d][position[d] + 1]) {
                        any = true;
                        break;
                    }
                    cursor[d] = starts[d][position[d]];
                }
            }
            return count;
        }

        /** Moves to the next source position (row-major). */
        void next() {
            SourceTables.increment(position, sourceSpatial);
        }
    }
}
