package org.convcl.opencl.internal.plan;

/**
 * How a long reduction is cut into contiguous row ranges, one partial sum each, so that enough work-groups
 * run at once; the partials are then added in range order, which keeps the result deterministic (it depends
 * on the shape and the device, never on scheduling). A single range needs no second pass.
 *
 * @param splits       number of ranges (at least 1)
 * @param rowsPerSplit rows per range, a multiple of the kernel's step; the last range may be shorter
 */
public record ReductionSplit(int splits, int rowsPerSplit) {
    /** At most this many floats of partial sums per call (64 MiB), whatever the device. */
    static final long PARTIALS_BUDGET_FLOATS = 16L << 20;
    /** The most ranges a launch's third (or second) dimension takes on every driver. */
    static final int MAX_SPLITS = 4096;

    /**
     * The split of {@code rows} rows, {@code step} at a time, for a kernel that already runs
     * {@code parallelPerSplit} units (work-groups or work-items) per range and writes {@code partialLength}
     * floats per range, aiming at {@code targetParallel} units in all.
     */
    public static ReductionSplit of(long rows, int step, long parallelPerSplit, long partialLength, long targetParallel) {
        if (rows > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("reduction: " + rows + " rows exceed the " + Integer.MAX_VALUE
                    + " a kernel indexes with 32-bit ints");
        }
        long steps = Math.max(1, (rows + step - 1) / step);
        long perSplit = Math.max(1, parallelPerSplit);
        long wanted = Math.max(1, (targetParallel + perSplit - 1) / perSplit);
        long byMemory = Math.max(1, PARTIALS_BUDGET_FLOATS / Math.max(1, partialLength));
        long splits = Math.min(Math.min(wanted, steps), Math.min(byMemory, MAX_SPLITS));
        long stepsPerSplit = (steps + splits - 1) / splits;
        int rowsPerSplit = Math.toIntExact(stepsPerSplit * step);
        int actual = (int) Math.max(1, (rows + rowsPerSplit - 1) / rowsPerSplit);
        return new ReductionSplit(actual, rowsPerSplit);
    }
}
