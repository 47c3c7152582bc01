package org.convcl;

/**
 * The reduction a pooling window computes, as flax's {@code flax.linen.pooling} functions define it over
 * {@code lax.reduce_window}.
 */
public enum PoolOp {
    /**
     * flax's {@code max_pool}: the largest element, padding counting as {@code -inf}. NaN propagates, as in
     * {@code lax.max}. The gradient goes to one element per window (see {@link PoolGeometry}).
     */
    MAX,
    /**
     * flax's {@code avg_pool}: the window's sum (padding counting as 0) divided by the window's size, or, without
     * {@link PoolSpec#countIncludePad()}, by the number of real (non-padding) elements in the window.
     */
    AVG,
    /** flax's {@code min_pool}: the smallest element, padding counting as {@code +inf}; NaN propagates. */
    MIN
}
