package org.convcl;

import java.util.Arrays;

/**
 * What a pooling does, independent of shapes: the window, strides, padding and, for {@link PoolOp#AVG}, whether
 * padding counts in the divisor; flax's {@code pool(inputs, init, reduce_fn, window_shape, strides, padding)}
 * with its defaults (stride 1 per dim, {@code VALID} padding, {@code count_include_pad=True}).
 *
 * <p>The window has one size per spatial dim and so fixes the rank; strides are one int (every dim) or one per
 * dim. Padding is {@link Padding#VALID}, {@link Padding#SAME}, one int for both sides of every dim, or explicit
 * {@code (lo, hi)} pairs, none negative: the window runs over the padded input. Global average pooling is a
 * window equal to the whole spatial extent (with VALID padding: one output position per dim).
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class PoolSpec {
    private final int[] window;
    private final int[] strides;
    private final Padding padding;
    private final boolean countIncludePad;

    private PoolSpec(Builder builder) {
        if (builder.window == null) {
            throw new IllegalArgumentException("window: not set; a pooling needs its window, one size per spatial "
                    + "dim (PoolSpec.builder().window(2, 2))");
        }
        this.window = ConvSpec.checkedPositive("window", builder.window);
        this.strides = perDim("strides", ConvSpec.checkedPositive("strides", builder.strides), window.length);
        this.padding = checkedPadding(builder.padding, window.length);
        this.countIncludePad = builder.countIncludePad;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder pre-filled with this spec's settings. */
    public Builder toBuilder() {
        return new Builder().window(window).strides(strides).padding(padding).countIncludePad(countIncludePad);
    }

    /** The window's size per spatial dim. */
    public int[] window() {
        return window.clone();
    }

    /** The stride per spatial dim. */
    public int[] strides() {
        return strides.clone();
    }

    public Padding padding() {
        return padding;
    }

    /** Whether {@link PoolOp#AVG} divides by the whole window's size (flax's default) or by its real elements. */
    public boolean countIncludePad() {
        return countIncludePad;
    }

    /** The number of spatial dims: the window's length. */
    public int rank() {
        return window.length;
    }

    /**
     * Checks this spec against a channels-last input {@code (*batch, *spatial, C)} and computes the output's
     * shape and the padding in {@code (lo, hi)} form. Throws {@link IllegalArgumentException} naming the parameter,
     * the value and the rule where flax or jax would refuse.
     */
    public PoolGeometry resolve(int[] inputShape) {
        return PoolGeometry.resolve(this, inputShape);
    }

    /** One int expanded to every dim, or exactly one per dim; any other length refused. */
    private static int[] perDim(String name, int[] values, int rank) {
        if (values.length == 1) {
            int[] expanded = new int[rank];
            Arrays.fill(expanded, values[0]);
            return expanded;
        }
        if (values.length != rank) {
            throw new IllegalArgumentException(name + ": got " + values.length + " values " + Arrays.toString(values)
                    + " for a " + rank + "-d window; give one int or exactly " + rank);
        }
        return values;
    }

    private static Padding checkedPadding(Padding padding, int rank) {
        ConvSpec.checkedPadding(padding);
        if (padding instanceof Padding.Named named && named != Padding.VALID && named != Padding.SAME) {
            throw new IllegalArgumentException("padding: got " + named + "; pooling takes VALID, SAME, an int or "
                    + "explicit (lo, hi) pairs, as lax.reduce_window does");
        }
        if (padding instanceof Padding.Uniform uniform && uniform.amount() < 0) {
            throw new IllegalArgumentException("padding: got " + uniform.amount() + "; pooling padding must be >= 0");
        }
        if (padding instanceof Padding.Explicit explicit) {
            if (explicit.rank() != rank) {
                throw new IllegalArgumentException("padding: " + explicit + " has " + explicit.rank()
                        + " entries for a " + rank + "-d window; give one (lo, hi) pair per spatial dim");
            }
            int[] lo = explicit.lo();
            int[] hi = explicit.hi();
            for (int d = 0; d < rank; d++) {
                if (lo[d] < 0 || hi[d] < 0) {
                    throw new IllegalArgumentException("padding: " + explicit + " has (" + lo[d] + ", " + hi[d]
                            + ") in spatial dim " + d + "; pooling padding must be >= 0");
                }
            }
        }
        return padding;
    }

    @Override
    public String toString() {
        return "PoolSpec{window=" + Arrays.toString(window) + ", strides=" + Arrays.toString(strides) + ", padding="
                + padding + (countIncludePad ? "" : ", countIncludePad=false") + "}";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PoolSpec s && Arrays.equals(window, s.window) && Arrays.equals(strides, s.strides)
                && padding.equals(s.padding) && countIncludePad == s.countIncludePad;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(new int[] {Arrays.hashCode(window), Arrays.hashCode(strides), padding.hashCode(),
            Boolean.hashCode(countIncludePad)});
    }

    /** Collects settings; every setter validates only on {@link #build()}. Not thread-safe. */
    public static final class Builder {
        private int[] window;
        private int[] strides = {1};
        private Padding padding = Padding.VALID;
        private boolean countIncludePad = true;

        private Builder() {
        }

        /** The window's size per spatial dim (required): its length is the number of spatial dims. */
        public Builder window(int... window) {
            this.window = window == null ? null : window.clone();
            return this;
        }

        /** One stride for every spatial dim, or one per dim; 1 by default. */
        public Builder strides(int... strides) {
            this.strides = strides == null ? null : strides.clone();
            return this;
        }

        /** VALID (the default), SAME, an int, or explicit (lo, hi) pairs; none negative. */
        public Builder padding(Padding padding) {
            this.padding = padding;
            return this;
        }

        /** flax's {@code count_include_pad} for {@link PoolOp#AVG}: true by default. */
        public Builder countIncludePad(boolean countIncludePad) {
            this.countIncludePad = countIncludePad;
            return this;
        }

        public PoolSpec build() {
            return new PoolSpec(this);
        }
    }
}
