package org.convcl.backend.cpu.internal;

import java.util.Arrays;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.convcl.ConvGeometry;
import org.convcl.DType;
import org.convcl.Epilogue;
import org.convcl.HalfFloats;
import org.convcl.backend.internal.HalfHostEpilogue;
import org.convcl.backend.internal.HostEpilogue;

/**
 * A forward call on 16-bit host data (issue 26) cut into tasks, each converting what it reads and writes itself:
 * the float32 row kernels ({@link RowTasks}) run on the geometry of one batch element, and a task of element
 * {@code b} decodes, from {@code b}'s 16-bit input, the input lines its row segment's window reads (every outer tap
 * that reads real input, over the span of the last dim its positions' taps reach) into a float scratch laid out as
 * one element, runs the row kernel on it, applies the epilogue (if any) to the segment in float32, and rounds the
 * output segment it wrote into the 16-bit output. No float copy of the input or output tensor exists: the
 * scratches hold one element each and there are as many as tasks run at once. Input lines read by several tasks (a window's halo) are decoded by each of them; decoding is a few
 * operations an element against the row kernel's {@code Cout * taps} products.
 *
 * <p>The row kernels index their input by absolute position within the batch, which is why a task's scratch is a
 * whole element wide and only the lines it reads are written. Winograd and the 1x1 tiles ({@link PointwiseTasks})
 * cut the work otherwise and are not used here.
 *
 * <p>Per call; tasks run on any thread, each writing its own part of the output.
 */
public final class HalfRowTasks {
    private final DType dtype;
    private final ConvRows rows;
    private final RowTasks tasks;
    private final int batch;
    private final int tasksPerElement;
    private final int inputElement;
    private final int outputElement;
    /** Scratches free for the next task: at most one per thread that ran a task at once. */
    private final ConcurrentLinkedQueue<Buffers> free = new ConcurrentLinkedQueue<>();

    /**
     * The tasks of a call of {@code batch} elements of geometry {@code element} (batch 1), whose operands hold
     * {@code dtype}'s bits; {@code kernel}, decoded, is prepared for this call alone.
     */
    public static HalfRowTasks of(ConvGeometry element, int batch, DType dtype, float[] kernel,
            int positionsPerTask) {
        if (element.batch() != 1) {
            throw new IllegalArgumentException("element: batch " + element.batch() + "; the geometry of one batch "
                    + "element must have batch 1");
        }
        ConvRows rows = new ConvRows(element);
        RowTasks tasks = RowTasks.preparedNow(rows, CpuKernels.select(rows), kernel, positionsPerTask);
        return new HalfRowTasks(dtype, rows, tasks, batch);
    }

    private HalfRowTasks(DType dtype, ConvRows rows, RowTasks tasks, int batch) {
        this.dtype = dtype;
        this.rows = rows;
        this.tasks = tasks;
        this.batch = batch;
        this.tasksPerElement = tasks.count();
        this.inputElement = rows.inputSpatialSize * rows.inChannels;
        this.outputElement = rows.outputSpatialSize * rows.outChannels;
    }

    public int count() {
        return batch * tasksPerElement;
    }

    /** Writes task {@code task}'s 16-bit output segment from the 16-bit {@code input}; {@code bias} is float32. */
    public void run(int task, short[] input, float[] bias, short[] output) {
        run(task, input, bias, null, null, output);
    }

    /**
     * {@link #run(int, short[], float[], short[])} with {@code epilogue} (float32 scale and shift; null for none)
     * and the 16-bit {@code residual} (may be null) applied in float32 to the segment in the scratch, before it is
     * rounded: the segment's residual decoded into a scratch of its own at the same positions.
     */
    public void run(int task, short[] input, float[] bias, Epilogue<float[]> epilogue, short[] residual,
            short[] output) {
        int element = task / tasksPerElement;
        int elementTask = task % tasksPerElement;
        Buffers buffers = free.poll();
        if (buffers == null) {
            buffers = new Buffers(rows, inputElement, outputElement);
        }
        try {
            int row = tasks.row(elementTask);
            int from = tasks.from(elementTask);
            int to = tasks.to(elementTask);
            decodeWindow(element, row, from, to, input, buffers);
            tasks.run(elementTask, buffers.input, bias, buffers.output, null);
            int start = (row * rows.outLast + from) * rows.outChannels;
            int end = (row * rows.outLast + to) * rows.outChannels;
            if (!HalfHostEpilogue.isNone(epilogue, residual)) {
                float[] residualValues = null;
                if (residual != null) {
                    residualValues = buffers.residual(outputElement);
                    HalfFloats.decode(dtype, residual, element * outputElement + start, residualValues, start,
                            end - start);
                }
                HostEpilogue.apply(HalfHostEpilogue.withResidual(epilogue, residualValues), rows.outChannels,
                        buffers.output, start, end);
            }
            HalfFloats.encode(dtype, buffers.output, start, output, element * outputElement + start, end - start);
        } finally {
            free.add(buffers);
        }
    }

    /** Decodes into the scratch every input line segment that positions {@code [from, to)} of {@code row} read. */
    private void decodeWindow(int element, int row, int from, int to, short[] input, Buffers buffers) {
        int first = Integer.MAX_VALUE;
        int last = -1;
        for (int o = from; o < to; o++) {
            for (int t = 0; t < rows.kernelLast; t++) {
                int s = rows.lastSource(o, t);
                if (s >= 0) {
                    first = Math.min(first, s);
                    last = Math.max(last, s);
                }
            }
        }
        if (last < 0) {
            return;
        }
        // With batch 1 the row is the index over the outer output dims.
        int validTaps = rows.validOuterTaps(row, buffers.sourceOffset, buffers.tapIndex);
        int cin = rows.inChannels;
        int length = (last - first + 1) * cin;
        int elementBase = element * inputElement;
        for (int i = 0; i < validTaps; i++) {
            int at = (buffers.sourceOffset[i] + first) * cin;
            HalfFloats.decode(dtype, input, elementBase + at, buffers.input, at, length);
        }
    }

    /** One task's working memory: an element's input and output in float32, and the outer taps of a row. */
    private static final class Buffers {
        final float[] input;
        final float[] output;
        final int[] sourceOffset;
        final int[] tapIndex;
        /** The decoded residual, laid out as {@link #output}; made by the first task with a residual. */
        private float[] residual;

        Buffers(ConvRows rows, int inputElement, int outputElement) {
            input = new float[inputElement];
            output = new float[outputElement];
            sourceOffset = new int[rows.outerTaps];
            tapIndex = new int[rows.outerTaps];
            // With assertions on (the tests), input a task did not decode is NaN, so that a kernel reading beyond
            // the window decodeWindow computes gives NaN outputs instead of another task's values.
            assert poison(input);
        }

        float[] residual(int length) {
            if (residual == null) {
                residual = new float[length];
            }
            return residual;
        }

        private static boolean poison(float[] values) {
            Arrays.fill(values, Float.NaN);
            return true;
        }
    }
}
