package org.convcl.backend.cpu;

/** Computes output positions {@code [from, to)} of one output row (see {@link ConvRows}), every channel. */
public interface RowKernel {

    void computeRow(ConvRows rows, int row, int from, int to, float[] input, float[] kernel, float[] bias,
            float[] output, Scratch scratch);
}
