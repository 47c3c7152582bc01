package org.convcl.backend.internal;

import java.util.Arrays;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.convcl.DType;
import org.convcl.EdgePadding;
import org.convcl.Epilogue;
import org.convcl.HalfFloats;

/**
 * The {@link EdgePadding} maps on 16-bit host arrays (float16 or bfloat16 bits, issue 26), as on 16-bit device
 * tensors: the pad copies values exactly; the fold sums them in float32, adds the bias and applies the epilogue in
 * float32 (scale and shift float32, the residual of the type), and rounds each result once. The fold converts
 * inside its tasks, as the float32 fold's slices ({@link CpuEdges#fold}): each decodes the padded rows it adds as
 * it reads them, sums its slice in a float scratch in the float32 fold's order ({@link FoldIndex}), applies the
 * epilogue there with its slice of the residual decoded, and rounds the slice once. So its bits are the float32
 * fold's on the decoded operands, rounded. Stateless.
 */
public final class HalfHostEdges {
    private HalfHostEdges() {
    }

    /** {@link CpuEdges#pad(EdgePadding, short[], short[])}, with the lengths checked. */
    public static void pad(EdgePadding padding, short[] source, short[] padded) {
        HostOperands.pad(padding, source, padded);
        CpuEdges.pad(padding, source, padded);
    }

    /**
     * Overwrites {@code source} with the fold of {@code padded}, plus {@code bias} (may be null), then
     * {@code epilogue} (null or {@link Epilogue#none()} for none; its own residual must be null) with
     * {@code residual} (bits of the type, or null), in float32, each element rounded once to {@code dtype}.
     */
    public static void fold(EdgePadding padding, DType dtype, short[] padded, short[] bias,
            Epilogue<float[]> epilogue, short[] residual, short[] source) {
        HostOperands.fold(padding, padded, bias, source);
        HalfHostEpilogue.check(epilogue, dtype, residual, padding.channels(), source.length);
        int channels = padding.channels();
        // One value per channel, copied into every source position's sum: decoded once.
        float[] biasValues = bias == null ? null : HalfFloats.decode(dtype, bias);
        FoldIndex index = new FoldIndex(padding);
        int sourcePositions = index.sourcePositions();
        // Scratches free for the next slice: at most one per thread that ran a slice at once.
        ConcurrentLinkedQueue<Scratch> free = new ConcurrentLinkedQueue<>();
        CpuEdges.forEachSlice(padding.batch(), sourcePositions, (b, first, last) -> {
            Scratch scratch = free.poll();
            if (scratch == null) {
                scratch = new Scratch(channels, residual != null);
            }
            try {
                float[] sums = scratch.sums;
                FoldIndex.Walk walk = index.walk(b, first);
                for (int p = first; p < last; p++) {
                    int to = (p - first) * channels;
                    if (biasValues == null) {
                        Arrays.fill(sums, to, to + channels, 0f);
                    } else {
                        System.arraycopy(biasValues, 0, sums, to, channels);
                    }
                    int rows = walk.list();
                    for (int r = 0; r < rows; r++) {
                        HalfFloats.decode(dtype, padded, walk.rows[r], scratch.row, 0, channels);
                        for (int c = 0; c < channels; c++) {
                            sums[to + c] += scratch.row[c];
                        }
                    }
                    walk.next();
                }
                int base = (b * sourcePositions + first) * channels;
                int length = (last - first) * channels;
                if (residual != null) {
                    HalfFloats.decode(dtype, residual, base, scratch.residual, 0, length);
                }
                HostEpilogue.apply(HalfHostEpilogue.withResidual(epilogue, scratch.residual), channels, sums, 0,
                        length);
                HalfFloats.encode(dtype, sums, 0, source, base, length);
            } finally {
                free.add(scratch);
            }
        });
    }

    /**
     * A fold slice's working memory: its sums in float32, one padded row decoded, and its slice of the residual
     * decoded (null without a residual).
     */
    private static final class Scratch {
        final float[] sums;
        final float[] row;
        final float[] residual;

        Scratch(int channels, boolean withResidual) {
            sums = new float[CpuEdges.POSITIONS_PER_TASK * channels];
            row = new float[channels];
            residual = withResidual ? new float[sums.length] : null;
        }
    }
}
