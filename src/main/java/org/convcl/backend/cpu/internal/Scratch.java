package org.convcl.backend.cpu.internal;

/**
 * Per-task working memory of the CPU kernels, sized by the kernel and the channel count, never by the
 * problem: the outer taps of a row that read real input, and a row of zeros that stands in for padding.
 *
 * <p>Not thread-safe: a task uses its thread's ({@link #forThread}), or its own.
 */
public final class Scratch {
    /**
     * Each thread's scratch, reused by its tasks: one per task was a few KiB of garbage per row segment (ResNet-50
     * at batch 8: thousands per forward). Grown to the largest kernel and channel count the thread has run, so
     * bounded by the largest layer's taps and channels, one per thread.
     */
    private static final ThreadLocal<Scratch> THREAD_SCRATCH = new ThreadLocal<>();

    final int[] sourceOffset;
    final int[] tapIndex;
    final float[] zeros;
    /**
     * A block's reduction list, one entry per kernel tap that reads real input for at least one of its
     * positions: the array and offset each position reads from (the zeros row where it reads padding), the
     * kernel offset, and the entry's length in reduction steps. Taps that continue the previous entry in
     * memory (next pixel along the last dim for all four positions, next kernel row) extend it instead of
     * starting a new one, so an RGB stem's 7 taps along a row are one run of 21 steps.
     */
    final float[][] blockSource0;
    final float[][] blockSource1;
    final float[][] blockSource2;
    final float[][] blockSource3;
    final int[] blockOffset0;
    final int[] blockOffset1;
    final int[] blockOffset2;
    final int[] blockOffset3;
    final int[] blockKernelOffset;
    final int[] blockLength;
    /** The sum of {@link #blockLength} over the current list. */
    int blockSteps;
    /**
     * The current register block's runs along the last kernel dim (VectorConvKernel): first tap, the input
     * coordinate each of the four positions reads there (-1: zeros), and how many taps the run spans.
     */
    final int[] runFirstTap;
    final int[] runSource0;
    final int[] runSource1;
    final int[] runSource2;
    final int[] runSource3;
    final int[] runTaps;
    /** The output positions of the current register block. */
    final int[] blockPositions = new int[4];

    public Scratch(ConvRows rows) {
        this(rows.outerTaps, rows.kernelLast, rows.inChannels);
    }

    private Scratch(int outerTaps, int kernelLast, int inChannels) {
        sourceOffset = new int[outerTaps];
        tapIndex = new int[outerTaps];
        zeros = new float[inChannels];
        int taps = outerTaps * kernelLast;
        blockSource0 = new float[taps][];
        blockSource1 = new float[taps][];
        blockSource2 = new float[taps][];
        blockSource3 = new float[taps][];
        blockOffset0 = new int[taps];
        blockOffset1 = new int[taps];
        blockOffset2 = new int[taps];
        blockOffset3 = new int[taps];
        blockKernelOffset = new int[taps];
        blockLength = new int[taps];
        runFirstTap = new int[kernelLast];
        runSource0 = new int[kernelLast];
        runSource1 = new int[kernelLast];
        runSource2 = new int[kernelLast];
        runSource3 = new int[kernelLast];
        runTaps = new int[kernelLast];
    }

    /**
     * The calling thread's scratch, large enough for {@code rows}; {@link #release} it when the task is done. The
     * kernels index every array by the row's own taps and channels, so a larger one serves as well.
     */
    static Scratch forThread(ConvRows rows) {
        Scratch held = THREAD_SCRATCH.get();
        if (held != null && held.sourceOffset.length >= rows.outerTaps && held.runTaps.length >= rows.kernelLast
                && held.zeros.length >= rows.inChannels) {
            return held;
        }
        int outerTaps = rows.outerTaps;
        int kernelLast = rows.kernelLast;
        int inChannels = rows.inChannels;
        if (held != null) {
            outerTaps = Math.max(outerTaps, held.sourceOffset.length);
            kernelLast = Math.max(kernelLast, held.runTaps.length);
            inChannels = Math.max(inChannels, held.zeros.length);
        }
        Scratch grown = new Scratch(outerTaps, kernelLast, inChannels);
        THREAD_SCRATCH.set(grown);
        return grown;
    }

    /**
     * Drops the references the reduction lists hold to the call's input, so that a thread's scratch never keeps
     * a caller's array alive after the call.
     */
    void release() {
        java.util.Arrays.fill(blockSource0, null);
        java.util.Arrays.fill(blockSource1, null);
        java.util.Arrays.fill(blockSource2, null);
        java.util.Arrays.fill(blockSource3, null);
    }
}
