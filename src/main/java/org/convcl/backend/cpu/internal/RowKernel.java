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

    /**
     * Whether {@link #computeRow} applies a {@link StoreEpilogue} whose {@link StoreEpilogue#appliesInStores}
     * is true to the values it stores; otherwise its caller applies the epilogue to the segment after it.
     */
    default boolean appliesEpilogue() {
        return false;
    }

    /**
     * Computes the row segment; {@code kernel} is what {@link #prepare} returned. {@code epilogue}, when not null
     * (only for a kernel that {@link #appliesEpilogue}, and only one that {@link StoreEpilogue#appliesInStores}),
     * is applied to each output position right after its values are stored.
     */
    void computeRow(ConvRows rows, int row, int from, int to, float[] input, float[] kernel, float[] bias,
            float[] output, Scratch scratch, StoreEpilogue epilogue);
}
