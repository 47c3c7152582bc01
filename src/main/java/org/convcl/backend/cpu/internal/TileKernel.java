package org.convcl.backend.cpu.internal;

/**
 * Computes one block of {@link WinogradTiles} (every channel of its tiles' outputs). Implementations are
 * stateless and shared by every thread; their buffers are per thread.
 */
public interface TileKernel {

    /** Output channels per register block: {@link WinogradTiles#plan} needs it. */
    int channelBlock();

    /**
     * The kernel {@code (3, ..., 3, Cin, Cout)} transformed ({@code G} along every dim) into the layout
     * {@link #computeBlock} reads, once per call; null when the kernel holds a NaN or an infinity.
     */
    float[] transformKernel(WinogradTiles tiles, float[] kernel);

    /**
     * Writes the outputs of block {@code task}; {@code transformedKernel} is what {@link #transformKernel}
     * returned. Returns false when an output came out NaN or infinite (an input
     * value it read was, or the transforms overflowed): the caller must then compute them otherwise.
     * {@code epilogue}, when not null (one that {@link StoreEpilogue#appliesInStores}), is applied to each
     * output right after it is stored; the finiteness check looks at the outputs before it.
     */
    boolean computeBlock(WinogradTiles tiles, int task, float[] input, float[] transformedKernel, float[] bias,
            float[] output, StoreEpilogue epilogue);
}
