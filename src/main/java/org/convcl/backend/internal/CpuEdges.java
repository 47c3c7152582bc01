package org.convcl.backend.internal;

import java.util.Arrays;
import org.convcl.Epilogue;
import org.convcl.EdgePadding;
import org.convcl.internal.CpuWorkers;

/**
 * The pure-Java {@link EdgePadding} maps: {@link #pad} gathers the padded array from its source, and
 * {@link #fold}, its adjoint, sums every padded element back onto the source element it copies.
 *
 * <p>Both are written as gathers over their output, parallel over (batch, position) slices with no two
 * tasks writing the same element: fold inverts the per-dim index tables first (a padded coordinate copies
 * at most one source coordinate per dim, so each source coordinate owns a short list of padded ones:
 * {@link FoldIndex}), which keeps it deterministic and free of atomics. Thread-safe and stateless.
 */
public final class CpuEdges {
    /** The source or padded positions a task of {@link #forEachSlice} takes at most. */
    static final int POSITIONS_PER_TASK = 256;

    private CpuEdges() {
    }

    /** Overwrites {@code padded} {@code (batch, *paddedSpatial, C)} with the padding of {@code source}. */
    public static void pad(EdgePadding e, float[] source, float[] padded) {
        pad(e, source, padded, (from, to) -> Arrays.fill(padded, from, to, 0f));
    }

    /**
     * {@link #pad(EdgePadding, float[], float[])} on 16-bit values (float16 or bfloat16 bits): a pad copies values,
     * so the bits move as they are, and the padding zeros are +0 in either type.
     */
    public static void pad(EdgePadding e, short[] source, short[] padded) {
        pad(e, source, padded, (from, to) -> Arrays.fill(padded, from, to, (short) 0));
    }

    /** Writes zeros over {@code [from, to)} of the padded array. */
    private interface ZeroFill {
        void fill(int from, int to);
    }

    /** The gather over {@code padded}, an array of {@code source}'s element type, copied by System.arraycopy. */
    private static void pad(EdgePadding e, Object source, Object padded, ZeroFill zeros) {
        int rank = e.rank();
        int channels = e.channels();
        int[] paddedSpatial = e.paddedSpatial();
        int[][] tables = new int[rank][];
        for (int d = 0; d < rank; d++) {
            tables[d] = e.sourceIndexTable(d);
        }
        int[] sourceStride = IntMath.rowMajorStrides(e.sourceSpatial());
        int paddedPositions = product(paddedSpatial);
        int sourcePositions = product(e.sourceSpatial());
        forEachSlice(e.batch(), paddedPositions, (b, first, last) -> {
            int[] q = new int[rank];
            SourceTables.decode(first, paddedSpatial, q);
            for (int p = first; p < last; p++) {
                int to = (b * paddedPositions + p) * channels;
                int from = 0;
                for (int d = 0; d < rank && from >= 0; d++) {
                    int index = tables[d][q[d]];
                    from = index < 0 ? -1 : from + index * sourceStride[d];
                }
                if (from < 0) {
                    zeros.fill(to, to + channels);
                } else {
                    System.arraycopy(source, (b * sourcePositions + from) * channels, padded, to, channels);
                }
                SourceTables.increment(q, paddedSpatial);
            }
        });
    }

    /**
     * Overwrites {@code source} {@code (batch, *sourceSpatial, C)} with the fold of {@code padded}, plus
     * {@code bias} (length C) when it is not null.
     */
    public static void fold(EdgePadding e, float[] padded, float[] bias, float[] source) {
        fold(e, padded, bias, null, source);
    }

    /**
     * {@link #fold(EdgePadding, float[], float[], float[])}, with {@code epilogue} (checked by the caller; null or
     * {@link Epilogue#none()} for none) applied by each task to the slice it has just summed, while in cache.
     */
    public static void fold(EdgePadding e, float[] padded, float[] bias, Epilogue<float[]> epilogue,
            float[] source) {
        int channels = e.channels();
        FoldIndex index = new FoldIndex(e);
        int sourcePositions = index.sourcePositions();
        forEachSlice(e.batch(), sourcePositions, (b, first, last) -> {
            FoldIndex.Walk walk = index.walk(b, first);
            for (int p = first; p < last; p++) {
                int to = (b * sourcePositions + p) * channels;
                if (bias == null) {
                    Arrays.fill(source, to, to + channels, 0f);
                } else {
                    System.arraycopy(bias, 0, source, to, channels);
                }
                int rows = walk.list();
                for (int r = 0; r < rows; r++) {
                    int from = walk.rows[r];
                    for (int c = 0; c < channels; c++) {
                        source[to + c] += padded[from + c];
                    }
                }
                walk.next();
            }
            int sliceBase = b * sourcePositions;
            HostEpilogue.apply(epilogue, channels, source, (sliceBase + first) * channels,
                    (sliceBase + last) * channels);
        });
    }

    /** One task of {@link #forEachSlice}: positions {@code [firstPosition, lastPosition)} of a batch entry. */
    interface Slice {
        void run(int batchIndex, int firstPosition, int lastPosition);
    }

    /** Runs {@code slice} over (batch, position range) pieces of about {@link #POSITIONS_PER_TASK} positions. */
    static void forEachSlice(int batch, int positions, Slice slice) {
        if (batch == 0 || positions == 0) {
            return;
        }
        int perBatch = (positions + POSITIONS_PER_TASK - 1) / POSITIONS_PER_TASK;
        CpuWorkers.forEach(batch * perBatch, task -> {
            int b = task / perBatch;
            int first = (task % perBatch) * POSITIONS_PER_TASK;
            slice.run(b, first, Math.min(positions, first + POSITIONS_PER_TASK));
        });
    }


    private static int product(int[] sizes) {
        int p = 1;
        for (int s : sizes) {
            p *= s;
        }
        return p;
    }
}
