package org.convcl.backend.cpu.internal;

import org.convcl.Epilogue;
import org.convcl.backend.internal.HostEpilogue;

/**
 * A call's {@link Epilogue} bound to its output, applied by the task that has just written a range of it, while
 * that range is still in cache: the Java path's fused store. Every CPU path (row segments, Winograd blocks, the
 * empty sum, the fold) hands the ranges it wrote to {@link #apply}, so the arithmetic is
 * {@link HostEpilogue#apply}'s and the fused result has the same bits as the plain call followed by the epilogue.
 *
 * <p>Immutable; tasks on different threads apply it to disjoint ranges.
 */
public final class StoreEpilogue {
    private static final EpilogueKernel KERNEL = CpuKernels.epilogue();

    private final Epilogue<float[]> epilogue;
    private final int channels;
    private final float[] output;

    private StoreEpilogue(Epilogue<float[]> epilogue, int channels, float[] output) {
        this.epilogue = epilogue;
        this.channels = channels;
        this.output = output;
    }

    /**
     * The store for {@code epilogue} over {@code output} (channels-last, {@code channels} channels), or null when
     * the epilogue leaves the output as it is: the plain call then pays nothing per block.
     */
    public static StoreEpilogue of(Epilogue<float[]> epilogue, int channels, float[] output) {
        return epilogue == null || epilogue.isNone() ? null : new StoreEpilogue(epilogue, channels, output);
    }

    /** Applies the epilogue to {@code output[from, to)}, just written by the calling task. */
    public void apply(int from, int to) {
        KERNEL.apply(epilogue, channels, output, from, to);
    }

    /** Applies the epilogue to the {@code channels} values of the output position whose channel 0 is at {@code base}. */
    public void applyPosition(int base) {
        apply(base, base + channels);
    }

    /**
     * A consumer of output positions (flat, in units of whole positions) for one task, which applies the epilogue
     * to each maximal run of consecutive positions at once: a Winograd block lists its outputs tile by tile, two or
     * more neighbours at a time, and one call per run costs less than one per position. Call {@link Runs#flush}
     * after the last position. Not thread-safe: one per task.
     */
    public Runs runs() {
        return new Runs();
    }

    /** See {@link #runs()}. */
    public final class Runs implements java.util.function.IntConsumer {
        private int first = -1;
        private int end = -1;

        @Override
        public void accept(int position) {
            if (position == end) {
                end++;
                return;
            }
            flush();
            first = position;
            end = position + 1;
        }

        /** Applies the epilogue to the run in progress, if any. */
        public void flush() {
            if (first >= 0) {
                apply(first * channels, end * channels);
                first = -1;
                end = -1;
            }
        }
    }
}
