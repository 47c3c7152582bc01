package org.convcl.nn;

import org.convcl.PoolOp;
import org.convcl.PoolSpec;
import org.convcl.Tensor;
import org.convcl.opencl.DeviceTensor;

/**
 * flax's pooling functions as one-off calls on channels-last inputs {@code (*batch, *spatial, C)}, on the default
 * backend; a {@link Pool} layer sets the layout and backend, and gives gradients. Global average pooling is
 * {@link #avgPool} with a window equal to the whole spatial extent. The {@link DeviceTensor} forms run on the device
 * the input lives on and return a new device tensor that the caller closes. Thread-safe.
 */
public final class Pooling {
    private Pooling() {
    }

    /** flax's {@code max_pool(x, window_shape, strides, padding)}. */
    public static Tensor maxPool(Tensor x, PoolSpec spec) {
        return Pool.builder(PoolOp.MAX, spec).build().apply(x);
    }

    /** flax's {@code avg_pool(x, window_shape, strides, padding, count_include_pad)}. */
    public static Tensor avgPool(Tensor x, PoolSpec spec) {
        return Pool.builder(PoolOp.AVG, spec).build().apply(x);
    }

    /** flax's {@code min_pool(x, window_shape, strides, padding)}. */
    public static Tensor minPool(Tensor x, PoolSpec spec) {
        return Pool.builder(PoolOp.MIN, spec).build().apply(x);
    }

    /** {@link #maxPool(Tensor, PoolSpec)} on the device {@code x} lives on. */
    public static DeviceTensor maxPool(DeviceTensor x, PoolSpec spec) {
        return onDevice(PoolOp.MAX, x, spec);
    }

    /** {@link #avgPool(Tensor, PoolSpec)} on the device {@code x} lives on. */
    public static DeviceTensor avgPool(DeviceTensor x, PoolSpec spec) {
        return onDevice(PoolOp.AVG, x, spec);
    }

    /** {@link #minPool(Tensor, PoolSpec)} on the device {@code x} lives on. */
    public static DeviceTensor minPool(DeviceTensor x, PoolSpec spec) {
        return onDevice(PoolOp.MIN, x, spec);
    }

    /** A layer on x's own backend: the default backend is not needed (nor started) for a device tensor. */
    private static DeviceTensor onDevice(PoolOp op, DeviceTensor x, PoolSpec spec) {
        LayerChecks.input(x);
        return Pool.builder(op, spec).backend(x.backend()).build().apply(x);
    }
}
