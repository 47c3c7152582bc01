package org.convcl.backend.cpu.internal;

/**
 * A forward call's direct work cut into tasks: segments of output rows ({@link ConvRows}), each computed by the
 * row kernel with the call's {@link StoreEpilogue}, when it has one, applied in the kernel's stores or else to the
 * segment just after, while it is still in cache.
 * Long rows (1-d signals, wide images) are split so that every core gets work. Immutable; tasks run on any
 * thread, each writing its own part of the output.
 */
public final class RowTasks {
    private final ConvRows rows;
    private final RowKernel kernel;
    private final float[] preparedKernel;
    private final int chunk;
    private final int chunksPerRow;

    /**
     * The tasks of {@code rows} through the row kernel {@link CpuKernels#select} picks, its prepared kernel kept
     * across calls for {@code kernel}'s array.
     */
    public static RowTasks of(ConvRows rows, KernelOperand kernel, int positionsPerTask) {
        RowKernel rowKernel = CpuKernels.select(rows);
        float[] prepared = kernel.prepared(PreparedKernels.Form.DIRECT_ROWS,
                values -> rowKernel.prepare(rows, values), false);
        return new RowTasks(rows, rowKernel, prepared, positionsPerTask);
    }

    /** The tasks through a chosen row kernel (tests run each one), {@code kernel} prepared for this call alone. */
    static RowTasks preparedNow(ConvRows rows, RowKernel rowKernel, float[] kernel, int positionsPerTask) {
        return new RowTasks(rows, rowKernel, rowKernel.prepare(rows, kernel), positionsPerTask);
    }

    private RowTasks(ConvRows rows, RowKernel rowKernel, float[] preparedKernel, int positionsPerTask) {
        this.rows = rows;
        this.kernel = rowKernel;
        this.preparedKernel = preparedKernel;
        int outLast = rows.outLast;
        // A multiple of 4: the vector kernels' register blocks hold 4 positions.
        chunk = Math.max(4, Math.min(outLast, (positionsPerTask + 3) & ~3));
        chunksPerRow = (outLast + chunk - 1) / chunk;
    }

    public int count() {
        return rows.rowCount() * chunksPerRow;
    }

    /** The output row task {@code task} writes (a row of {@link ConvRows}). */
    int row(int task) {
        return task / chunksPerRow;
    }

    /** The first position along the last dim that task {@code task} writes. */
    int from(int task) {
        return (task % chunksPerRow) * chunk;
    }

    /** The position along the last dim after the last that task {@code task} writes. */
    int to(int task) {
        return Math.min(rows.outLast, from(task) + chunk);
    }

    /**
     * Whether {@link #run} with {@code store} reads an in-place residual (one that is the output) before it writes
     * over it: when the kernel's stores apply the epilogue, each task first copies its segment's residual aside
     * ({@link TaskResidual}). Otherwise the caller must hand over a store whose residual is not the output.
     */
    public boolean takesInPlaceResidual(StoreEpilogue store) {
        return store.appliesInStores() && kernel.appliesEpilogue();
    }

    /**
     * Writes task {@code task}'s row segment, every channel, with {@code store} applied to it (when not null); a
     * residual that is the output itself only where {@link #takesInPlaceResidual}.
     */
    public void run(int task, float[] input, float[] bias, float[] output, StoreEpilogue store) {
        int row = row(task);
        int from = from(task);
        int to = to(task);
        // A row segment is contiguous in a channels-last output.
        int rowBase = row * rows.outLast;
        int outFrom = (rowBase + from) * rows.outChannels;
        int outTo = (rowBase + to) * rows.outChannels;
        // The vector kernels apply a piecewise-linear epilogue block by block as they store, in the first-level
        // cache; a pass over the segment afterwards reads it back from further away.
        boolean inStores = store != null && store.appliesInStores() && kernel.appliesEpilogue();
        StoreEpilogue segmentStore = inStores ? TaskResidual.overRange(store, output, outFrom, outTo) : null;
        Scratch scratch = Scratch.forThread(rows);
        try {
            kernel.computeRow(rows, row, from, to, input, preparedKernel, bias, output, scratch, segmentStore);
        } finally {
            scratch.release();
        }
        if (store != null && !inStores) {
            store.apply(outFrom, outTo);
        }
    }
}
