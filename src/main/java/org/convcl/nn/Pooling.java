package org.convcl.nn;

import org.convcl.PoolOp;
import org.convcl.PoolSpec;
import org.convcl.Tensor;

/**
 * flax's pooling functions as one-off calls on channels-last inputs {@code (*batch, *spatial, C)}, on the default
 * backend; a {@link Pool} layer sets the layout and backend, and gives gradients. Global average pooling is
 * {@link #avgPool} with a window equal to the whole spatial extent. Thread-safe.
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
}
