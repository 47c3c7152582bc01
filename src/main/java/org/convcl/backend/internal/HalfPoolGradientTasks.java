package org.convcl.backend.internal;

import java.util.Arrays;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.convcl.DType;
import org.convcl.HalfFloats;
import org.convcl.PoolGeometry;
import org.convcl.PoolOp;

/**
 * The tasks of a pooling gradient on 16-bit host data (issue 26, {@link HostPooling}'s 16-bit backward): each takes
 * one batch entry's block of channels, decodes that block of the input (MAX and MIN only) and output gradient into
 * a float scratch laid out as a tensor of batch 1 with the block's channels, runs the float32 pass's loop on it
 * (the same sums in the same order, the same choice of element on ties) and rounds the block's input gradient once
 * into the 16-bit result. A scratch holds one batch entry's block; there are as many as tasks run at once.
 *
 * <p>Per call; tasks run on any thread, each writing its own elements of the result.
 */
final class HalfPoolGradientTasks {
    private final PoolOp op;
    private final PoolGeometry geometry;
    private final DType dtype;
    private final int width;
    /** Scratches free for the next task: at most one per thread that ran a task at once. */
    private final ConcurrentLinkedQueue<Scratch> free = new ConcurrentLinkedQueue<>();

    HalfPoolGradientTasks(PoolOp op, PoolGeometry geometry, DType dtype, int width) {
        this.op = op;
        this.geometry = geometry;
        this.dtype = dtype;
        this.width = width;
    }

    /** Writes batch entry {@code b}'s channels {@code [firstChannel, endChannel)} of {@code inputGradient}. */
    void run(short[] input, short[] outputGradient, short[] inputGradient, int b, int firstChannel,
            int endChannel) {
        Scratch scratch = free.poll();
        if (scratch == null) {
            scratch = new Scratch(geometry, width, op != PoolOp.AVG);
        }
        try {
            PoolWindows windows = scratch.windows;
            int channels = geometry.channels();
            int block = endChannel - firstChannel;
            int inBase = b * windows.inCount * channels + firstChannel;
            int outBase = b * windows.outCount * channels + firstChannel;
            // AVG's gradient does not depend on the input: only MAX and MIN decode it.
            if (op != PoolOp.AVG) {
                decodeRows(input, inBase, scratch.input, windows.inCount, block);
            }
            decodeRows(outputGradient, outBase, scratch.outputGradient, windows.outCount, block);
            Arrays.fill(scratch.inputGradient, 0, windows.inCount * block, 0f);
            HostPooling.backwardRange(op, geometry, windows, block, scratch.input, scratch.outputGradient,
                    scratch.inputGradient, scratch.chosen, scratch.chosenValue, 0, 1, 0, block);
            for (int p = 0; p < windows.inCount; p++) {
                HalfFloats.encode(dtype, scratch.inputGradient, p * block, inputGradient, inBase + p * channels,
                        block);
            }
        } finally {
            free.add(scratch);
        }
    }

    /** Decodes {@code block} channels at {@code base} of each of {@code positions} rows into a packed slice. */
    private void decodeRows(short[] bits, int base, float[] slice, int positions, int block) {
        int channels = geometry.channels();
        for (int p = 0; p < positions; p++) {
            HalfFloats.decode(dtype, bits, base + p * channels, slice, p * block, block);
        }
    }

    /**
     * A task's working memory: its block of the input, output gradient and input gradient in float32, the windows
     * and the MAX / MIN choices per channel.
     */
    private static final class Scratch {
        final PoolWindows windows;
        final float[] input;
        final float[] outputGradient;
        final float[] inputGradient;
        final int[] chosen;
        final float[] chosenValue;

        Scratch(PoolGeometry geometry, int width, boolean readsInput) {
            windows = new PoolWindows(geometry);
            input = new float[readsInput ? windows.inCount * width : 0];
            outputGradient = new float[windows.outCount * width];
            inputGradient = new float[windows.inCount * width];
            chosen = new int[width];
            chosenValue = new float[width];
        }
    }
}
