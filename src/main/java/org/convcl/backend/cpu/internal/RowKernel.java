package org.convcl.backend.cpu.internal;

/**
 * Computes output positions {@code [from, to)} of one output row (see {@link ConvRows}), every channel.
 * Implementations are stateless and shared by every thread; what a task writes lives in its {@link Scratch}
 * and its own part of the output.
 */
public interface RowKernel {

    /**
     * The kernel {@code (*k, Cin/groups, Cout)} in the layout {@link #computeRow} reads, made once per call before
     * the rows run; by default the array itself. A kernel may append repacked copies (see VectorConvKernel).
     */
    default float[] prepare(ConvRows rows, float[] kernel) {
        return kernel;
    }

    /** Computes the row segment; {@code kernel} is what {@link #prepare} returned. */
    void computeRow(ConvRows rows, int row, int from, int to, float[] input, float[] kernel, float[] bias,
            float[] output, Scratch scratch);
}
