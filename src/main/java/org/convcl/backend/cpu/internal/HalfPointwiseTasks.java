package org.convcl.backend.cpu.internal;

import java.util.concurrent.ConcurrentLinkedQueue;
import org.convcl.ConvGeometry;
import org.convcl.DType;
import org.convcl.Epilogue;
import org.convcl.HalfFloats;
import org.convcl.backend.internal.HalfHostEpilogue;
import org.convcl.backend.internal.HostEpilogue;

/**
 * A 1x1 forward call on 16-bit host data (issue 26) through the float32 tiles of {@link PointwiseTasks}, each task
 * converting what it reads and writes itself: it decodes its rows' input pixels ({@code Cin} contiguous values a
 * position: one contiguous range at stride 1, one range a position otherwise) into a float scratch, runs the float
 * micro-kernel on it, applies the epilogue (if any) to it in float32, and rounds the tile it wrote into the 16-bit
 * output. No float copy of the input or output
 * tensor exists; a scratch holds one tile's rows and there are as many as tasks run at once. Tasks of the same rows
 * and other output channels decode the same pixels again: {@code Cin} conversions a row against its
 * {@code Cin x channelTile} products.
 *
 * <p>Per call; tasks run on any thread, each writing its own tile of the output.
 */
public final class HalfPointwiseTasks {
    private final DType dtype;
    private final PointwiseTasks tiles;
    private final int inChannels;
    private final int outChannels;
    /** Scratches free for the next task: at most one per thread that ran a task at once. */
    private final ConcurrentLinkedQueue<Buffers> free = new ConcurrentLinkedQueue<>();

    private HalfPointwiseTasks(DType dtype, PointwiseTasks tiles, ConvGeometry g) {
        this.dtype = dtype;
        this.tiles = tiles;
        this.inChannels = g.inChannels();
        this.outChannels = g.outChannels();
    }

    /**
     * The call's tasks on operands holding {@code dtype}'s bits, {@code kernel} (decoded, finite) packed for this
     * call alone; null where the 1x1 tiles do not take {@code g} (see {@code PointwiseTasks.applies}) or the JVM
     * has no Vector API.
     */
    public static HalfPointwiseTasks of(ConvGeometry g, DType dtype, float[] kernel) {
        PointwiseTasks tiles = PointwiseTasks.preparedNow(g, kernel);
        return tiles == null ? null : new HalfPointwiseTasks(dtype, tiles, g);
    }

    public int count() {
        return tiles.count();
    }

    /** Writes task {@code task}'s 16-bit tile from the 16-bit {@code input}; {@code bias} is float32. */
    public void run(int task, short[] input, float[] bias, short[] output) {
        run(task, input, bias, null, null, output);
    }

    /**
     * {@link #run(int, short[], float[], short[])} with {@code epilogue} (float32 scale and shift; null for none)
     * and the 16-bit {@code residual} (may be null) applied in float32 to each row of the tile in the scratch,
     * before it is rounded: the row's residual decoded into a scratch of its own at the same positions.
     */
    public void run(int task, short[] input, float[] bias, Epilogue<float[]> epilogue, short[] residual,
            short[] output) {
        Buffers buffers = free.poll();
        if (buffers == null) {
            buffers = new Buffers(tiles.rowTile(), inChannels, outChannels);
        }
        try {
            int mFrom = tiles.rowFrom(task);
            int mTo = tiles.rowTo(task);
            decodeRows(tiles.rowOffsets(mFrom, mTo), mTo - mFrom, input, buffers.input);
            tiles.runOnRows(task, buffers.input, bias, buffers.output);
            int nFrom = tiles.channelFrom(task);
            int width = tiles.channelTo(task) - nFrom;
            boolean withEpilogue = !HalfHostEpilogue.isNone(epilogue, residual);
            Epilogue<float[]> wide = withEpilogue
                    ? HalfHostEpilogue.withResidual(epilogue, residual == null ? null : buffers.residual())
                    : null;
            for (int m = mFrom; m < mTo; m++) {
                int at = (m - mFrom) * outChannels + nFrom;
                if (withEpilogue) {
                    if (residual != null) {
                        HalfFloats.decode(dtype, residual, m * outChannels + nFrom, buffers.residual(), at, width);
                    }
                    HostEpilogue.apply(wide, outChannels, buffers.output, at, at + width);
                }
                HalfFloats.encode(dtype, buffers.output, (m - mFrom) * outChannels + nFrom, output,
                        m * outChannels + nFrom, width);
            }
        } finally {
            free.add(buffers);
        }
    }

    /** Decodes the rows' pixels one after another, each run of pixels adjacent in the input in one call. */
    private void decodeRows(int[] offsets, int count, short[] input, float[] rowsInput) {
        for (int start = 0; start < count; ) {
            int end = start + 1;
            while (end < count && offsets[end] == offsets[end - 1] + inChannels) {
                end++;
            }
            HalfFloats.decode(dtype, input, offsets[start], rowsInput, start * inChannels, (end - start) * inChannels);
            start = end;
        }
    }

    /** One task's working memory: its rows' input pixels and output positions in float32. */
    private static final class Buffers {
        final float[] input;
        final float[] output;
        /** The decoded residual, laid out as {@link #output}; made by the first task with a residual. */
        private float[] residual;

        Buffers(int rowTile, int inChannels, int outChannels) {
            input = new float[rowTile * inChannels];
            output = new float[rowTile * outChannels];
        }

        float[] residual() {
            if (residual == null) {
                residual = new float[output.length];
            }
            return residual;
        }
    }
}
