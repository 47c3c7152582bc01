package org.convcl.backend.cpu.internal;

/**
 * Per-task working memory of the CPU kernels, sized by the kernel and the channel count, never by the
 * problem: the outer taps of a row that read real input, and a row of zeros that stands in for padding.
 *
 * <p>Not thread-safe: every task makes its own.
 */
public final class Scratch {
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
        sourceOffset = new int[rows.outerTaps];
        tapIndex = new int[rows.outerTaps];
        zeros = new float[rows.inChannels];
        int taps = rows.outerTaps * rows.kernelLast;
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
        runFirstTap = new int[rows.kernelLast];
        runSource0 = new int[rows.kernelLast];
        runSource1 = new int[rows.kernelLast];
        runSource2 = new int[rows.kernelLast];
        runSource3 = new int[rows.kernelLast];
        runTaps = new int[rows.kernelLast];
    }
}
