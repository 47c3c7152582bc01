package org.convcl.nn;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;
import org.convcl.internal.CpuWorkers;
import org.convcl.opencl.DeviceConvOps;
import org.convcl.opencl.DeviceTensor;
import org.convcl.opencl.OpenClBackend;

/**
 * A reordering of a row-major tensor's axes as a sequence of batched transposes, each viewing the values as
 * {@code (batch, rows, cols)} and swapping the last two: how {@link ChannelsFirst} moves channels-first tensors to
 * the channels-last order the engine computes in, and back. One description, run on the host (the Java path) or
 * on an OpenCL device ({@link DeviceConvOps#transpose}), so both make the same moves. Immutable and thread-safe.
 */
record AxisMoves(List<Step> steps) {
    /** From this many values on, host moves run on every core ({@link CpuWorkers}, as the Java path's work does). */
    private static final int PARALLEL_THRESHOLD = 1 << 16;
    /** Square blocks of the host transpose, so that both sides of a block stay in cache. */
    private static final int BLOCK = 32;

    /** {@code (batch, rows, cols)} becomes {@code (batch, cols, rows)}. */
    record Step(int batch, int rows, int cols) {
        Step inverse() {
            return new Step(batch, cols, rows);
        }

        /** Whether the step moves nothing: a transpose with one row or one column keeps every value in place. */
        boolean isIdentity() {
            return rows <= 1 || cols <= 1;
        }
    }

    AxisMoves {
        steps = List.copyOf(steps);
    }

    static AxisMoves of(Step... steps) {
        return new AxisMoves(List.of(steps));
    }

    /** The moves that undo these: the inverse steps in reverse order. */
    AxisMoves inverse() {
        List<Step> inverse = new ArrayList<>();
        for (int i = steps.size() - 1; i >= 0; i--) {
            inverse.add(steps.get(i).inverse());
        }
        return new AxisMoves(inverse);
    }

    /** The moved values, as a new array ({@code values} itself when no step moves anything). */
    float[] apply(float[] values) {
        float[] current = values;
        for (Step step : steps) {
            if (!step.isIdentity()) {
                current = transpose(current, step);
            }
        }
        return current;
    }

    /**
     * Enqueues the moves of {@code source} into {@code target} (as many values of one type, any shapes; the
     * intermediates of that type too, their elements moved as their bits) on their device and
     * returns without waiting; intermediate tensors are pooled memory, released once enqueued (the device keeps a
     * buffer until the work enqueued with it is done).
     */
    void apply(OpenClBackend backend, DeviceTensor source, DeviceTensor target) {
        DeviceConvOps ops = new DeviceConvOps(backend);
        List<Step> moving = steps.stream().filter(step -> !step.isIdentity()).toList();
        if (moving.isEmpty()) {
            // Every value stays where it is: a device-side copy (a transpose of one row is one).
            ops.transpose(source, 1, 1, source.size(), target);
            return;
        }
        DeviceTensor current = source;
        for (int i = 0; i < moving.size(); i++) {
            Step step = moving.get(i);
            DeviceTensor next = i == moving.size() - 1 ? target
                    : DeviceTensor.allocate(backend, source.dtype(), source.size());
            try {
                ops.transpose(current, step.batch(), step.rows(), step.cols(), next);
            } catch (RuntimeException e) {
                if (next != target) {
                    next.close();
                }
                throw e;
            } finally {
                if (current != source) {
                    current.close();
                }
            }
            current = next;
        }
    }

    /** {@code source} moved into a new device tensor of {@code shape} and its type, which the caller closes. */
    DeviceTensor apply(OpenClBackend backend, DeviceTensor source, int[] shape) {
        DeviceTensor target = DeviceTensor.allocate(backend, source.dtype(), shape);
        try {
            apply(backend, source, target);
            return target;
        } catch (RuntimeException e) {
            target.close();
            throw e;
        }
    }

    private static float[] transpose(float[] values, Step step) {
        int rows = step.rows();
        int cols = step.cols();
        float[] result = new float[values.length];
        int rowBlocks = (rows + BLOCK - 1) / BLOCK;
        int tasks = step.batch() * rowBlocks;
        IntConsumer body = task -> {
            int offset = (task / rowBlocks) * rows * cols;
            int firstRow = (task % rowBlocks) * BLOCK;
            int lastRow = Math.min(rows, firstRow + BLOCK);
            for (int firstCol = 0; firstCol < cols; firstCol += BLOCK) {
                int lastCol = Math.min(cols, firstCol + BLOCK);
                for (int r = firstRow; r < lastRow; r++) {
                    for (int c = firstCol; c < lastCol; c++) {
                        result[offset + c * rows + r] = values[offset + r * cols + c];
                    }
                }
            }
        };
        if (values.length >= PARALLEL_THRESHOLD) {
            CpuWorkers.forEach(tasks, body);
        } else {
            for (int task = 0; task < tasks; task++) {
                body.accept(task);
            }
        }
        return result;
    }
}
