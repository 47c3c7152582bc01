package org.convcl.backend.internal;

import org.convcl.PoolOp;

/**
 * The inner loop of {@link HostPooling}'s forward pass: folds one input position's channels (one contiguous row,
 * channels-last) into a window's accumulators. Every form computes each channel with the same float32 operation
 * in the same order ({@link #SCALAR}'s), so the bits do not depend on which one runs. Stateless.
 */
@FunctionalInterface
public interface PoolRowKernel {
    /**
     * Folds {@code input[row, row + channels)} into {@code acc[0, channels)}: AVG adds; MAX and MIN take the
     * element where it is NaN or beyond the accumulator (so NaN propagates, and a tie keeps the earlier one).
     */
    void accumulate(PoolOp op, float[] input, int row, float[] acc, int channels);

    /** The plain loops, on any JVM. */
    PoolRowKernel SCALAR = (op, input, row, acc, channels) -> scalarRange(op, input, row, acc, 0, channels);

    /** {@link #accumulate} of channels {@code [from, to)} only, in plain loops (the vector forms' tail). */
    static void scalarRange(PoolOp op, float[] input, int row, float[] acc, int from, int to) {
        for (int c = from; c < to; c++) {
            float x = input[row + c];
            if (op == PoolOp.AVG) {
                acc[c] += x;
            } else if (Float.isNaN(x) || (op == PoolOp.MAX ? x > acc[c] : x < acc[c])) {
                // lax.max / lax.min: NaN propagates, and a NaN once taken stays.
                acc[c] = x;
            }
        }
    }
}
