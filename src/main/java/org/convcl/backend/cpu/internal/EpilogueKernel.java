package org.convcl.backend.cpu.internal;

import org.convcl.Epilogue;

/**
 * The arithmetic of the Java path's fused store over one range of a channels-last output: the same float32
 * operations in the same order as {@code HostEpilogue.apply}, so the same bits. {@link CpuKernels#epilogue()}
 * gives the Vector API form where the JVM opened the module, else {@code HostEpilogue}'s loops. Stateless.
 */
public interface EpilogueKernel {
    /** Applies {@code epilogue} to {@code output[from, to)}; element {@code i} is channel {@code i % channels}. */
    void apply(Epilogue<float[]> epilogue, int channels, float[] output, int from, int to);

    /**
     * Applies {@code store}'s epilogue to its output's {@code [from, to)}: the same as {@link #apply}, for a call
     * that already holds its store (kernels call this once per row segment; a new store each time was garbage).
     */
    default void apply(StoreEpilogue store, int from, int to) {
        apply(store.epilogue(), store.channels(), store.output(), from, to);
    }
}
