package org.convcl.backend.cpu.internal;

import org.convcl.internal.CpuWorkers;

/**
 * How a matrix multiply {@code [rows, K] x [K, Cout]} is cut into tiles of rows by output channels, one parallel
 * task each ({@link PointwiseTasks}, {@link PatchGemmTasks}): tiles sized by their work, so that small layers
 * still feed every core, and split along the side whose repetition costs less. Tasks go rows-major: task
 * {@code t} is row tile {@code t / channelTiles()}, channel tile {@code t % channelTiles()}. Immutable.
 */
final class GemmTiles {
    /** Tasks per thread a call aims for, so that tasks of uneven speed still even out across the cores. */
    private static final int TASKS_PER_THREAD = 4;
    /** Operations below which a task costs more to schedule than it saves: tiny calls make fewer tasks. */
    private static final long MIN_TASK_FLOPS = 1_000_000L;
    /** Rows per register block of the kernels: row tiles hold a multiple of them. */
    static final int ROW_BLOCK = 4;

    private final int rows;
    private final int outChannels;
    private final int rowTile;
    private final int channelTile;
    private final int channelTiles;

    /**
     * Tiles of at most {@code maxRowTile} rows (a multiple of {@link #ROW_BLOCK}) and whole multiples of
     * {@code channelBlock} channels, for a reduction of {@code reduction} values per output.
     */
    GemmTiles(int rows, int reduction, int outChannels, int channelBlock, int maxRowTile) {
        this.rows = rows;
        this.outChannels = outChannels;
        int channelBlocks = (outChannels + channelBlock - 1) / channelBlock;
        int rowBlocks = (rows + ROW_BLOCK - 1) / ROW_BLOCK;
        long flops = 2L * rows * reduction * outChannels;
        long wanted = Math.min((long) TASKS_PER_THREAD * CpuWorkers.threads(), flops / MIN_TASK_FLOPS);
        // Each channel split reads the input once more, each row split the kernel: split the side whose
        // repetition costs less. At batch 1 the deep layers' kernels (4 to 8 MB) outweigh their inputs, and a
        // kernel read once per row tile came from memory several times (0.85 -> 0.65 ms only, at 2048 channels).
        boolean channelsFirst = rows <= outChannels;
        int rowSplits = 1;
        int channelSplits = 1;
        while ((long) rowSplits * channelSplits < wanted && (rowSplits < rowBlocks || channelSplits < channelBlocks)) {
            if ((channelsFirst || rowSplits == rowBlocks) && channelSplits < channelBlocks) {
                channelSplits++;
            } else {
                rowSplits++;
            }
        }
        rowSplits = Math.max(rowSplits, (rows + maxRowTile - 1) / maxRowTile);
        channelTile = (channelBlocks + channelSplits - 1) / channelSplits * channelBlock;
        channelTiles = (outChannels + channelTile - 1) / channelTile;
        rowTile = (rowBlocks + rowSplits - 1) / rowSplits * ROW_BLOCK;
    }

    int count() {
        return (rows + rowTile - 1) / rowTile * channelTiles;
    }

    /** The row tile task {@code task} computes. */
    int rowTileOf(int task) {
        return task / channelTiles;
    }

    /** The rows of task {@code task}'s tile: {@code [rowFrom, rowTo)}. */
    int rowFrom(int task) {
        return rowTileOf(task) * rowTile;
    }

    int rowTo(int task) {
        return Math.min(rows, rowFrom(task) + rowTile);
    }

    /** The output channels of task {@code task}'s tile: {@code [channelFrom, channelTo)}. */
    int channelFrom(int task) {
        return task % channelTiles * channelTile;
    }

    int channelTo(int task) {
        return Math.min(outChannels, channelFrom(task) + channelTile);
    }

    /** Rows a tile holds at most. */
    int rowTile() {
        return rowTile;
    }
}
