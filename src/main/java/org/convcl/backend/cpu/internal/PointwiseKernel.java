package org.convcl.backend.cpu.internal;

/**
 * Computes one tile of a {@link PointwiseTasks 1x1 convolution}, a matrix multiply {@code [M, Cin] x [Cin, Cout]}:
 * rows {@code [mFrom, mTo)} by output channels {@code [nFrom, nTo)}. Implementations are stateless and shared by
 * every thread.
 */
public interface PointwiseKernel {

    /** Output channels per register block: tiles start at multiples of it. */
    int channelBlock();

    /**
     * A packed panel per {@link #channelBlock} columns of the kernel {@code (Cin, Cout)} ({@code Cin x channelBlock}
     * floats each, in column-block order), which {@link #computeTile} reads; preceded by the kernel as given where
     * {@code Cout} is no multiple of the block (the last columns are read from it), the kernel itself where it has
     * no whole block.
     */
    float[] pack(int inChannels, int outChannels, float[] kernel);

    /** Whether {@code packed}, which {@link #pack} made, holds exactly {@code kernel}'s values. */
    boolean packedHolds(int inChannels, int outChannels, float[] packed, float[] kernel);

    /**
     * Writes {@code output[m * Cout + c]} for the tile's rows and channels: the bias plus the sum over input
     * channels of {@code input[rowOffsets[m - mFrom] + ci] * kernel[ci][c]}, then {@code epilogue} (when not
     * null: one that {@link StoreEpilogue#appliesInStores}) right after each final store.
     */
    void computeTile(int inChannels, int outChannels, int[] rowOffsets, int mFrom, int mTo, int nFrom, int nTo,
            float[] input, float[] packedKernel, float[] bias, float[] output, StoreEpilogue epilogue);
}
