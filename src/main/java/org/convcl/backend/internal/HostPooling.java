package org.convcl.backend.internal;

import java.util.Arrays;
import java.util.function.IntConsumer;
import org.convcl.DType;
import org.convcl.HalfFloats;
import org.convcl.PoolGeometry;
import org.convcl.PoolOp;
import org.convcl.internal.CpuWorkers;

/**
 * Pooling on host arrays, channels-last: the forward pass and its input gradient, with the semantics
 * {@link PoolGeometry} states (flax's pooling over {@code lax.reduce_window}, jax's gradients). Each output
 * position's window is listed once as the input positions it covers (padding left out), then run for every
 * batch entry, over each position's channels as one contiguous row. Large calls run on {@link CpuWorkers}: the
 * forward pass over ranges of output positions, the backward pass over (batch entry, channel block) pairs, whose
 * input-gradient elements are disjoint; every element is computed in the one-thread order, so the bits do not
 * depend on the number of threads. Stateless and thread-safe.
 */
public final class HostPooling {
    private HostPooling() {
    }

    /**
     * Work (element visits) below which a call runs on the calling thread alone: handing out tasks costs more
     * than it saves.
     */
    private static final long SEQUENTIAL_WORK = 1L << 15;
    /** The fewest channels a backward task takes: a task's rows stay whole cache lines. */
    private static final int CHANNELS_PER_TASK = 16;

    /** Overwrites {@code output} {@code (*batch, *outSpatial, C)} with the pooling of {@code input}. */
    public static void forward(PoolOp op, PoolGeometry geometry, float[] input, float[] output) {
        forward(op, geometry, input, output, PoolRowKernel.SCALAR);
    }

    /**
     * {@link #forward(PoolOp, PoolGeometry, float[], float[])} with each window's channel rows folded by
     * {@code rows} (a Vector API form on the Java path; every form gives the same bits).
     */
    public static void forward(PoolOp op, PoolGeometry geometry, float[] input, float[] output, PoolRowKernel rows) {
        check(op, geometry);
        HostOperands.length("input", input, geometry.inputShape());
        HostOperands.length("output", output, geometry.outputShape());
        // Output positions are independent: tasks take ranges of them, each element computed as by one thread.
        int outCount = product(geometry.outSpatial());
        int tasks = work(geometry, outCount) < SEQUENTIAL_WORK ? Math.min(1, outCount)
                : Math.min(outCount, 4 * CpuWorkers.threads());
        int perTask = tasks == 0 ? 0 : (outCount + tasks - 1) / tasks;
        CpuWorkers.forEach(tasks, task -> forwardRange(op, geometry, input, output, rows, task * perTask,
                Math.min(outCount, (task + 1) * perTask)));
    }

    private static void forwardRange(PoolOp op, PoolGeometry geometry, float[] input, float[] output,
            PoolRowKernel rows, int firstOut, int endOut) {
        int channels = geometry.channels();
        forwardRange(op, geometry, firstOut, endOut, (row, acc) -> rows.accumulate(op, input, row, acc, channels),
                (at, value) -> output[at] = value);
    }

    /** Folds the channel row starting at input element {@code row} into a window's accumulators. */
    private interface RowFold {
        void fold(int row, float[] acc);
    }

    /** Stores a window's result for output element {@code at}. */
    private interface ResultStore {
        void store(int at, float value);
    }

    /**
     * Output positions {@code [firstOut, endOut)} of every batch element: each window's rows folded by {@code rows}
     * (in tap order: ties keep the earlier element), then stored, AVG divided in float32 by the window's size or its
     * count of real taps.
     */
    private static void forwardRange(PoolOp op, PoolGeometry geometry, int firstOut, int endOut, RowFold rows,
            ResultStore output) {
        PoolWindows windows = new PoolWindows(geometry);
        int channels = geometry.channels();
        float[] acc = new float[channels];
        float init = op == PoolOp.MAX ? Float.NEGATIVE_INFINITY : op == PoolOp.MIN ? Float.POSITIVE_INFINITY : 0f;
        for (int o = firstOut; o < endOut; o++) {
            int taps = windows.fill(o);
            float divisor = geometry.countIncludePad() ? (float) windows.size : (float) taps;
            for (int b = 0; b < geometry.batch(); b++) {
                Arrays.fill(acc, init);
                int inBase = b * windows.inCount * channels;
                for (int t = 0; t < taps; t++) {
                    rows.fold(inBase + windows.taps[t] * channels, acc);
                }
                int outBase = (b * windows.outCount + o) * channels;
                for (int c = 0; c < channels; c++) {
                    output.store(outBase + c, op == PoolOp.AVG ? acc[c] / divisor : acc[c]);
                }
            }
        }
    }

    /**
     * The forward pass on 16-bit host data (issue 26): {@code input} and {@code output} hold {@code dtype}'s bits
     * (float16 or bfloat16). Converted inside the tasks, never in a pass over a tensor: each task decodes the values
     * its windows read as it reads them and rounds each output once (nearest even), so MAX and MIN store an input
     * value exactly and AVG is the float32 sum divided in float32, rounded: the 16-bit device pooling's semantics.
     */
    public static void forward(PoolOp op, PoolGeometry geometry, DType dtype, short[] input, short[] output) {
        check(op, geometry);
        requireHalf(dtype, "poolForward(PoolOp, PoolGeometry, float[], float[])");
        HostOperands.length("input", input, geometry.inputShape());
        HostOperands.length("output", output, geometry.outputShape());
        int outCount = product(geometry.outSpatial());
        int tasks = work(geometry, outCount) < SEQUENTIAL_WORK ? Math.min(1, outCount)
                : Math.min(outCount, 4 * CpuWorkers.threads());
        int perTask = tasks == 0 ? 0 : (outCount + tasks - 1) / tasks;
        CpuWorkers.forEach(tasks, task -> forwardRange(op, geometry, dtype, input, output, task * perTask,
                Math.min(outCount, (task + 1) * perTask)));
    }

    /** The float32 forward's windows on 16-bit values, decoded as they are read, each result rounded once. */
    private static void forwardRange(PoolOp op, PoolGeometry geometry, DType dtype, short[] input, short[] output,
            int firstOut, int endOut) {
        int channels = geometry.channels();
        forwardRange(op, geometry, firstOut, endOut, (row, acc) -> {
            for (int c = 0; c < channels; c++) {
                acc[c] = combine(op, acc[c], HalfFloats.decode(dtype, input[row + c]));
            }
        }, (at, value) -> output[at] = HalfFloats.encode(dtype, value));
    }

    /**
     * The backward pass on 16-bit host data (issue 26): {@code input}, {@code outputGradient} and
     * {@code inputGradient} hold {@code dtype}'s bits; each input-gradient element is summed in float32 and rounded
     * once, as on 16-bit device tensors. Converted inside the tasks, never in a pass over a tensor: the float32
     * pass's tasks, (batch entry, channel block) pairs, each decode their block of the input and output gradient
     * into a float scratch of their own, sum their block's gradient there in the float32 pass's order (overlapping
     * windows add into an element several times, so the sums cannot be rounded as they are written), and round it
     * once into {@code inputGradient} ({@link HalfPoolGradientTasks}): the float32 pass on the decoded operands,
     * rounded, bit for bit.
     */
    public static void backward(PoolOp op, PoolGeometry geometry, DType dtype, short[] input, short[] outputGradient,
            short[] inputGradient) {
        check(op, geometry);
        requireHalf(dtype, "poolBackward(PoolOp, PoolGeometry, float[], float[], float[])");
        HostOperands.length("input", input, geometry.inputShape());
        HostOperands.length("outputGradient", outputGradient, geometry.outputShape());
        HostOperands.length("inputGradient", inputGradient, geometry.inputShape());
        int batch = geometry.batch();
        int channels = geometry.channels();
        if (batch == 0 || channels == 0) {
            return;
        }
        boolean sequential = work(geometry, product(geometry.outSpatial())) < SEQUENTIAL_WORK;
        int blocks = sequential ? 1 : Math.max(1, channels / CHANNELS_PER_TASK);
        int perBlock = (channels + blocks - 1) / blocks;
        HalfPoolGradientTasks tasks = new HalfPoolGradientTasks(op, geometry, dtype, perBlock);
        IntConsumer task = t -> {
            int firstChannel = (t % blocks) * perBlock;
            tasks.run(input, outputGradient, inputGradient, t / blocks, firstChannel,
                    Math.min(channels, firstChannel + perBlock));
        };
        if (sequential) {
            // Too little work to hand out: the calling thread takes the batch entries one after another.
            for (int b = 0; b < batch; b++) {
                task.accept(b);
            }
        } else {
            CpuWorkers.forEach(batch * blocks, task);
        }
    }

    private static void requireHalf(DType dtype, String float32Form) {
        if (dtype != DType.FLOAT16 && dtype != DType.BFLOAT16) {
            throw new IllegalArgumentException("dtype: got " + (dtype == null ? "null" : dtype.cliName())
                    + "; the short[] pooling takes the bits of float16 or bfloat16 (float32 operands go through "
                    + float32Form + ")");
        }
    }

    /** {@code acc} with {@code x} taken in: summed for AVG; lax.max / lax.min for MAX and MIN. */
    private static float combine(PoolOp op, float acc, float x) {
        if (op == PoolOp.AVG) {
            return acc + x;
        }
        // NaN propagates, and a NaN once taken stays.
        return Float.isNaN(x) || (op == PoolOp.MAX ? x > acc : x < acc) ? x : acc;
    }

    /**
     * Overwrites {@code inputGradient} {@code (*batch, *spatial, C)} with the gradient of
     * {@code sum(pool(input) * outputGradient)} with respect to the input.
     */
    public static void backward(PoolOp op, PoolGeometry geometry, float[] input, float[] outputGradient,
            float[] inputGradient) {
        check(op, geometry);
        HostOperands.length("input", input, geometry.inputShape());
        HostOperands.length("outputGradient", outputGradient, geometry.outputShape());
        HostOperands.length("inputGradient", inputGradient, geometry.inputShape());
        Arrays.fill(inputGradient, 0f);
        // Overlapping windows add into the same elements: tasks take (batch entry, channel block) pairs, whose
        // elements no other task touches, and each adds its windows in output order, as one thread would.
        int batch = geometry.batch();
        int channels = geometry.channels();
        if (work(geometry, product(geometry.outSpatial())) < SEQUENTIAL_WORK) {
            if (batch > 0 && channels > 0) {
                backwardRange(op, geometry, input, outputGradient, inputGradient, 0, batch, 0, channels);
            }
            return;
        }
        int blocks = Math.max(1, channels / CHANNELS_PER_TASK);
        int perBlock = (channels + blocks - 1) / blocks;
        CpuWorkers.forEach(batch * blocks, task -> {
            int b = task / blocks;
            int firstChannel = (task % blocks) * perBlock;
            backwardRange(op, geometry, input, outputGradient, inputGradient, b, b + 1, firstChannel,
                    Math.min(channels, firstChannel + perBlock));
        });
    }

    private static void backwardRange(PoolOp op, PoolGeometry geometry, float[] input, float[] outputGradient,
            float[] inputGradient, int firstBatch, int endBatch, int firstChannel, int endChannel) {
        int channels = geometry.channels();
        backwardRange(op, geometry, new PoolWindows(geometry), channels, input, outputGradient, inputGradient,
                new int[channels], new float[channels], firstBatch, endBatch, firstChannel, endChannel);
    }

    /**
     * Adds the gradient of batch entries {@code [firstBatch, endBatch)}, channels {@code [firstChannel,
     * endChannel)}, into {@code inputGradient}: the arrays are laid out {@code (batch, spatial, channels)}, with
     * {@code channels} the geometry's or, for a 16-bit task's packed slice, its block's; {@code chosen} and
     * {@code chosenValue} hold at least {@code endChannel} entries.
     */
    static void backwardRange(PoolOp op, PoolGeometry geometry, PoolWindows windows, int channels,
            float[] input, float[] outputGradient, float[] inputGradient, int[] chosen, float[] chosenValue,
            int firstBatch, int endBatch, int firstChannel, int endChannel) {
        for (int o = 0; o < windows.outCount; o++) {
            int taps = windows.fill(o);
            if (taps == 0) {
                continue;
            }
            float divisor = geometry.countIncludePad() ? (float) windows.size : (float) taps;
            for (int b = firstBatch; b < endBatch; b++) {
                int inBase = b * windows.inCount * channels;
                int outBase = (b * windows.outCount + o) * channels;
                if (op == PoolOp.AVG) {
                    for (int t = 0; t < taps; t++) {
                        int row = inBase + windows.taps[t] * channels;
                        for (int c = firstChannel; c < endChannel; c++) {
                            inputGradient[row + c] += outputGradient[outBase + c] / divisor;
                        }
                    }
                    continue;
                }
                // XLA's select_and_scatter_add with ge (MAX) or le (MIN): the choice starts at the first real
                // element and moves to a later one whenever the comparison with the chosen is false (ties keep
                // the first; any comparison with NaN is false, so it moves).
                int first = inBase + windows.taps[0] * channels;
                for (int c = firstChannel; c < endChannel; c++) {
                    chosen[c] = first + c;
                    chosenValue[c] = input[first + c];
                }
                for (int t = 1; t < taps; t++) {
                    int row = inBase + windows.taps[t] * channels;
                    for (int c = firstChannel; c < endChannel; c++) {
                        float x = input[row + c];
                        if (!(op == PoolOp.MAX ? chosenValue[c] >= x : chosenValue[c] <= x)) {
                            chosen[c] = row + c;
                            chosenValue[c] = x;
                        }
                    }
                }
                for (int c = firstChannel; c < endChannel; c++) {
                    inputGradient[chosen[c]] += outputGradient[outBase + c];
                }
            }
        }
    }

    /** Element visits of a pass: every output element reads (at most) its whole window. */
    private static long work(PoolGeometry geometry, int outCount) {
        return (long) outCount * geometry.batch() * geometry.channels() * product(geometry.window());
    }

    private static void check(PoolOp op, PoolGeometry geometry) {
        if (op == null) {
            throw new IllegalArgumentException("op: got null; expected PoolOp.MAX, AVG or MIN");
        }
        if (geometry == null) {
            throw new IllegalArgumentException("geometry: got null; expected a PoolGeometry (PoolSpec.resolve)");
        }
    }

    private static int product(int[] sizes) {
        int product = 1;
        for (int size : sizes) {
            product *= size;
        }
        return product;
    }
}
