package org.convcl;

import java.util.Arrays;

/**
 * A pooling resolved against a channels-last input {@code (*batch, *spatial, C)}: the window, strides and padding
 * in explicit {@code (lo, hi)} form per spatial dim, and the output {@code (*batch, *outSpatial, C)} with
 * {@code outSpatial[d] = (in[d] + lo[d] + hi[d] - window[d]) / stride[d] + 1}, as {@code lax.reduce_window}
 * computes it. Any number of batch dims (none included) are flattened, as flax does.
 *
 * <p>Gradients, as jax differentiates {@code reduce_window}: for {@link PoolOp#AVG}, each output's gradient
 * divided by the divisor goes to every real element of its window. For {@link PoolOp#MAX} and {@link PoolOp#MIN}
 * it goes to one element per window, chosen as XLA's {@code select_and_scatter_add} chooses with {@code ge}
 * (MAX) or {@code le} (MIN): scanning the window's real elements in row-major order (padding is never chosen),
 * the choice starts at the first and moves to a later element whenever {@code chosen >= element} (MAX;
 * {@code <=} for MIN) is false. So on ties the first element wins. Every comparison with NaN is false, so the
 * choice moves onto each NaN and off it onto the element after it: in a window holding NaN, the gradient goes to
 * the first largest (MAX; smallest for MIN) of the elements after its last NaN, or to that NaN when it is the
 * window's last real element (while the forward value is NaN). A window holding only padding
 * gives {@code -inf} (MAX), {@code +inf} (MIN) or, for AVG without {@code countIncludePad}, {@code 0/0 = NaN}, and
 * passes no gradient on.
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class PoolGeometry {
    private final int[] batchShape;
    private final int batch;
    private final int[] inSpatial;
    private final int channels;
    private final int[] window;
    private final int[] strides;
    private final int[] padLo;
    private final int[] padHi;
    private final int[] outSpatial;
    private final boolean countIncludePad;

    private PoolGeometry(int[] batchShape, int[] inSpatial, int channels, PoolSpec spec, int[] padLo, int[] padHi) {
        this.batchShape = batchShape;
        this.inSpatial = inSpatial;
        this.channels = channels;
        this.window = spec.window();
        this.strides = spec.strides();
        this.padLo = padLo;
        this.padHi = padHi;
        this.countIncludePad = spec.countIncludePad();
        int rank = window.length;
        long windowSize = 1;
        for (int size : window) {
            windowSize *= size;
            if (windowSize > ConvGeometry.MAX_ELEMENTS) {
                throw new IllegalArgumentException("window: " + Arrays.toString(window) + " holds more than "
                        + ConvGeometry.MAX_ELEMENTS + " elements, the most a window may hold");
            }
        }
        this.outSpatial = new int[rank];
        for (int d = 0; d < rank; d++) {
            long padded = (long) inSpatial[d] + padLo[d] + padHi[d];
            if (window[d] > padded) {
                throw new IllegalArgumentException("window: size " + window[d] + " in spatial dim " + d
                        + " is larger than the padded input's " + padded + " (size " + inSpatial[d] + " + padding ("
                        + padLo[d] + ", " + padHi[d] + ")); the window must fit in the padded input");
            }
            // Clamped: an output past int's range is refused below for its element count (unless it holds none).
            outSpatial[d] = (int) Math.min((padded - window[d]) / strides[d] + 1, Integer.MAX_VALUE);
        }
        long count = 1;
        for (int size : batchShape) {
            count *= size;
        }
        this.batch = (int) count;
        Tensor.elementCount(outputShape());
    }

    static PoolGeometry resolve(PoolSpec spec, int[] inputShape) {
        if (spec == null) {
            throw new IllegalArgumentException("spec: got null; expected a PoolSpec");
        }
        if (inputShape == null) {
            throw new IllegalArgumentException("input: got a null shape; expected its dims, each >= 0");
        }
        Tensor.elementCount(inputShape);
        int rank = spec.rank();
        if (inputShape.length < rank + 1) {
            throw new IllegalArgumentException("input: shape " + Arrays.toString(inputShape) + " has rank "
                    + inputShape.length + " but a " + rank + "-d window needs (*batch, *spatial, C) with rank >= "
                    + (rank + 1));
        }
        int batchDims = inputShape.length - rank - 1;
        int[] batchShape = Arrays.copyOf(inputShape, batchDims);
        int[] inSpatial = Arrays.copyOfRange(inputShape, batchDims, batchDims + rank);
        int channels = inputShape[inputShape.length - 1];
        int[] window = spec.window();
        int[] strides = spec.strides();
        int[] lo = new int[rank];
        int[] hi = new int[rank];
        Padding padding = spec.padding();
        if (padding == Padding.SAME) {
            for (int d = 0; d < rank; d++) {
                // The smaller half of the padding low, as for a convolution's SAME.
                int total = ConvGeometry.samePaddingTotal(inSpatial[d], strides[d], window[d]);
                lo[d] = total / 2;
                hi[d] = total - lo[d];
            }
        } else if (padding instanceof Padding.Uniform uniform) {
            Arrays.fill(lo, uniform.amount());
            Arrays.fill(hi, uniform.amount());
        } else if (padding instanceof Padding.Explicit explicit) {
            lo = explicit.lo();
            hi = explicit.hi();
        }
        return new PoolGeometry(batchShape, inSpatial, channels, spec, lo, hi);
    }

    public int rank() {
        return window.length;
    }

    /** The input's batch dims, flattened into {@link #batch()}. */
    public int[] batchShape() {
        return batchShape.clone();
    }

    /** The product of the batch dims (1 when there are none). */
    public int batch() {
        return batch;
    }

    public int[] inSpatial() {
        return inSpatial.clone();
    }

    public int channels() {
        return channels;
    }

    public int[] window() {
        return window.clone();
    }

    public int[] strides() {
        return strides.clone();
    }

    /** Padding before each spatial dim. */
    public int[] padLo() {
        return padLo.clone();
    }

    /** Padding after each spatial dim. */
    public int[] padHi() {
        return padHi.clone();
    }

    public int[] outSpatial() {
        return outSpatial.clone();
    }

    /** Whether {@link PoolOp#AVG} divides by the whole window's size rather than its real elements. */
    public boolean countIncludePad() {
        return countIncludePad;
    }

    /** {@code (*batch, *spatial, C)}. */
    public int[] inputShape() {
        return shape(inSpatial);
    }

    /** {@code (*batch, *outSpatial, C)}. */
    public int[] outputShape() {
        return shape(outSpatial);
    }

    private int[] shape(int[] spatial) {
        int[] shape = Arrays.copyOf(batchShape, batchShape.length + spatial.length + 1);
        System.arraycopy(spatial, 0, shape, batchShape.length, spatial.length);
        shape[shape.length - 1] = channels;
        return shape;
    }

    @Override
    public String toString() {
        return "PoolGeometry{input=" + Arrays.toString(inputShape()) + ", window=" + Arrays.toString(window)
                + ", strides=" + Arrays.toString(strides) + ", padLo=" + Arrays.toString(padLo) + ", padHi="
                + Arrays.toString(padHi) + ", output=" + Arrays.toString(outputShape())
                + (countIncludePad ? "" : ", countIncludePad=false") + "}";
    }
}
