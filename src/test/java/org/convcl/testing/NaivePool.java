package org.convcl.testing;

import java.util.Arrays;
import org.convcl.Padding;
import org.convcl.PoolOp;

/**
 * An independent float64 reference of flax's pooling, for tests: the channels-last input
 * {@code (*batch, *spatial, C)} is first copied into an explicitly padded array (padding holding the reduction's
 * init value: {@code -inf} for max, {@code +inf} for min, 0 for avg, with a mask of which elements are real), then
 * every window of that array is reduced, as {@code lax.reduce_window} is specified. The gradient of max and min
 * follows XLA's {@code SelectAndScatter} evaluator: over the window's real elements in row-major order, the choice
 * moves to the next element whenever {@code select(chosen, next)} ({@code >=} for max, {@code <=} for min) is false.
 * Shares no code with the library's pooling.
 */
public final class NaivePool {
    private final PoolOp op;
    private final int[] batchShape;
    private final int[] in;
    private final int channels;
    private final int[] window;
    private final int[] strides;
    private final int[] lo;
    private final int[] hi;
    private final boolean countIncludePad;
    private final int[] out;

    /** A pooling of a channels-last input of {@code inputShape}; {@code strides} one per spatial dim. */
    public NaivePool(PoolOp op, int[] inputShape, int[] window, int[] strides, Padding padding,
            boolean countIncludePad) {
        this.op = op;
        int rank = window.length;
        int batchDims = inputShape.length - rank - 1;
        this.batchShape = Arrays.copyOf(inputShape, batchDims);
        this.in = Arrays.copyOfRange(inputShape, batchDims, batchDims + rank);
        this.channels = inputShape[inputShape.length - 1];
        this.window = window.clone();
        this.strides = strides.clone();
        this.countIncludePad = countIncludePad;
        this.lo = new int[rank];
        this.hi = new int[rank];
        this.out = new int[rank];
        for (int d = 0; d < rank; d++) {
            if (padding == Padding.SAME) {
                // jax's padtype_to_pads: out = ceil(in / stride), pads = max(0, (out-1)*stride + window - in).
                int wanted = (int) Math.ceil(in[d] / (double) strides[d]);
                int pads = Math.max(0, (wanted - 1) * strides[d] + window[d] - in[d]);
                lo[d] = pads / 2;
                hi[d] = pads - pads / 2;
            } else if (padding instanceof Padding.Uniform uniform) {
                lo[d] = uniform.amount();
                hi[d] = uniform.amount();
            } else if (padding instanceof Padding.Explicit explicit) {
                lo[d] = explicit.lo()[d];
                hi[d] = explicit.hi()[d];
            }
            out[d] = (in[d] + lo[d] + hi[d] - window[d]) / strides[d] + 1;
        }
    }

    public int[] outputShape() {
        int[] shape = Arrays.copyOf(batchShape, batchShape.length + out.length + 1);
        System.arraycopy(out, 0, shape, batchShape.length, out.length);
        shape[shape.length - 1] = channels;
        return shape;
    }

    public int[] padLo() {
        return lo.clone();
    }

    public int[] padHi() {
        return hi.clone();
    }

    /** The pooling of {@code x} (channels-last, float64). */
    public double[] forward(double[] x) {
        double[] y = new double[count(outputShape())];
        for (int b = 0; b < batch(); b++) {
            Padded padded = pad(x, b);
            for (int o = 0; o < count(out); o++) {
                int[] position = unflatten(o, out);
                for (int c = 0; c < channels; c++) {
                    double acc = op == PoolOp.MAX ? Double.NEGATIVE_INFINITY
                            : op == PoolOp.MIN ? Double.POSITIVE_INFINITY : 0;
                    int real = 0;
                    for (int t = 0; t < count(window); t++) {
                        int p = paddedIndex(position, unflatten(t, window), padded.shape);
                        double v = padded.values[p * channels + c];
                        real += padded.real[p] ? 1 : 0;
                        acc = op == PoolOp.MAX ? Math.max(acc, v) : op == PoolOp.MIN ? Math.min(acc, v) : acc + v;
                    }
                    if (op == PoolOp.AVG) {
                        acc /= countIncludePad ? count(window) : real;
                    }
                    y[(b * count(out) + o) * channels + c] = acc;
                }
            }
        }
        return y;
    }

    /** The gradient of {@code sum(forward(x) * dy)} with respect to x, as jax computes it. */
    public double[] gradient(double[] x, double[] dy) {
        double[] dx = new double[x.length];
        for (int b = 0; b < batch(); b++) {
            Padded padded = pad(x, b);
            for (int o = 0; o < count(out); o++) {
                int[] position = unflatten(o, out);
                for (int c = 0; c < channels; c++) {
                    double g = dy[(b * count(out) + o) * channels + c];
                    int real = 0;
                    for (int t = 0; t < count(window); t++) {
                        real += padded.real[paddedIndex(position, unflatten(t, window), padded.shape)] ? 1 : 0;
                    }
                    int chosen = -1;
                    for (int t = 0; t < count(window); t++) {
                        int p = paddedIndex(position, unflatten(t, window), padded.shape);
                        if (!padded.real[p]) {
                            continue;
                        }
                        int source = b * count(in) + padded.source[p];
                        if (op == PoolOp.AVG) {
                            dx[source * channels + c] += g / (countIncludePad ? count(window) : real);
                        } else if (chosen < 0) {
                            chosen = source;
                        } else {
                            double current = x[chosen * channels + c];
                            double next = x[source * channels + c];
                            boolean select = op == PoolOp.MAX ? current >= next : current <= next;
                            if (!select) {
                                chosen = source;
                            }
                        }
                    }
                    if (op != PoolOp.AVG && chosen >= 0) {
                        dx[chosen * channels + c] += g;
                    }
                }
            }
        }
        return dx;
    }

    private int batch() {
        return count(batchShape);
    }

    /** Batch entry b's spatial block, padded, with per-position realness and source position. */
    private Padded pad(double[] x, int b) {
        int rank = in.length;
        int[] shape = new int[rank];
        for (int d = 0; d < rank; d++) {
            shape[d] = in[d] + lo[d] + hi[d];
        }
        double fill = op == PoolOp.MAX ? Double.NEGATIVE_INFINITY : op == PoolOp.MIN ? Double.POSITIVE_INFINITY : 0;
        Padded padded = new Padded(shape, channels);
        Arrays.fill(padded.values, fill);
        for (int s = 0; s < count(in); s++) {
            int[] index = unflatten(s, in);
            int p = 0;
            for (int d = 0; d < rank; d++) {
                p = p * shape[d] + index[d] + lo[d];
            }
            padded.real[p] = true;
            padded.source[p] = s;
            for (int c = 0; c < channels; c++) {
                padded.values[p * channels + c] = x[(b * count(in) + s) * channels + c];
            }
        }
        return padded;
    }

    private int paddedIndex(int[] outPosition, int[] tap, int[] paddedShape) {
        int p = 0;
        for (int d = 0; d < tap.length; d++) {
            p = p * paddedShape[d] + outPosition[d] * strides[d] + tap[d];
        }
        return p;
    }

    private static int[] unflatten(int flat, int[] shape) {
        int[] index = new int[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            index[d] = flat % shape[d];
            flat /= shape[d];
        }
        return index;
    }

    private static int count(int[] shape) {
        int n = 1;
        for (int size : shape) {
            n *= size;
        }
        return n;
    }

    private static final class Padded {
        final int[] shape;
        final double[] values;
        final boolean[] real;
        final int[] source;

        Padded(int[] shape, int channels) {
            this.shape = shape;
            int n = count(shape);
            values = new double[n * channels];
            real = new boolean[n];
            source = new int[n];
        }
    }
}
