package org.convcl.backend.cpu.internal;

/**
 * Computes one block of {@link WinogradPhases} tiles (every channel of its tiles' outputs, the sum over the
 * group's families). Implementations are stateless and shared by every thread; their buffers are per thread.
 */
public interface PhaseKernel {

    /** Output channels per register block: {@link WinogradPhases#plan} needs it. */
    int channelBlock();

    /**
     * The kernel transformed for every family ({@code G} along every dim of the family's taps), in the layout
     * {@link #computeBlock} reads, once per call; null when the kernel holds a NaN or an infinity.
     */
    float[] transformKernel(WinogradPhases phases, float[] kernel);

    /**
     * Writes the outputs of block {@code task}. Returns false when an output came out NaN or infinite: a NaN or
     * an infinity among the inputs read always makes one so, and the caller must then compute them otherwise.
     * {@code epilogue}, when not null (one that {@link StoreEpilogue#appliesInStores}), is applied to each
     * output right after it is stored; the finiteness check looks at the outputs before it.
     */
    boolean computeBlock(WinogradPhases phases, int task, float[] input, float[] transformedKernel, float[] bias,
            float[] output, StoreEpilogue epilogue);
}
