package org.convcl.backend.cpu;

/**
 * Computes output positions {@code [from, to)} of one output row (see {@link ConvRows}), every channel.
 * Implementations are stateless and shared by every thread; what a task writes lives in its {@link Scratch}
 * and its own part of the output.
 */
public interface RowKernel {

    void computeRow(ConvRows rows, int row, int from, int to, float[] input, float[] kernel, float[] bias,
            float[] output, Scratch scratch);
}
