package org.convcl.testing;

import java.util.Arrays;
import org.convcl.ConvTransposeGeometry;
import org.convcl.ConvTransposeSpec;
import org.convcl.EdgePadding;
import org.convcl.Padding;
import org.convcl.Tensor;

/**
 * An independent float64 reference for flax nnx.ConvTranspose, written for the tests the way flax and jax
 * compute it: flip and swap the kernel when transposed, pad by jax's {@code _conv_transpose_padding}, run
 * {@link NaiveConv} with input dilation = strides, and for CIRCULAR zero-pad the VALID result to an odd
 * number of periods and sum the periods axis by axis (flax's pad-reshape-sum), then add the bias. It shares
 * no code with the library's transposed convolution.
 */
public record ConvTransposeReference(int[] xShape, int[] wShape, int[] strides, int[] kernelDilation,
        Padding padding, boolean transposeKernel) implements BilinearReference {

    public static ConvTransposeReference of(GoldenCase c) {
        return new ConvTransposeReference(c.array("x").shape(), c.array("kernel").shape(), c.strides(),
                c.kernelDilation(), c.libraryPadding(), c.transposeKernel());
    }

    /**
     * Products summed into one output of {@code tg}: a kernel tap's input channels times the taps, times the
     * wrap-around copies a CIRCULAR fold adds together (HalfBound's accumulation length).
     */
    public static long productsPerOutput(ConvTransposeGeometry tg) {
        int[] kernel = tg.conv().kernelShape();
        long products = Tensor.elementCount(kernel) / kernel[kernel.length - 1];
        EdgePadding fold = tg.circularFold();
        if (fold != null) {
            for (int d = 0; d < fold.rank(); d++) {
                products *= -Math.floorDiv(-fold.paddedSpatial()[d], fold.sourceSpatial()[d]);
            }
        }
        return products;
    }

    public static ConvTransposeSpec spec(GoldenCase c) {
        return ConvTransposeSpec.builder().strides(c.strides()).kernelDilation(c.kernelDilation())
                .padding(c.libraryPadding()).transposeKernel(c.transposeKernel()).build();
    }

    @Override
    public double[] apply(double[] x, double[] w) {
        return forward(x, w, null).values();
    }

    @Override
    public int inputLength() {
        return (int) Tensor.elementCount(xShape);
    }

    @Override
    public int kernelLength() {
        return (int) Tensor.elementCount(wShape);
    }

    /** Output values and the sums of |terms| behind each (bias included), in the output's shape. */
    public NaiveConv.Result forward(double[] x, double[] w, double[] bias) {
        int n = wShape.length - 2;
        int[] s = Reference.expand(strides, n);
        int[] kd = Reference.expand(kernelDilation, n);
        double[] kernel = transposeKernel ? flipAndSwap(w, wShape) : w;
        int[] kernelShape = wShape.clone();
        if (transposeKernel) {
            kernelShape[n] = wShape[n + 1];
            kernelShape[n + 1] = wShape[n];
        }
        int[] lo = new int[n];
        int[] hi = new int[n];
        for (int d = 0; d < n; d++) {
            int ke = (wShape[d] - 1) * kd[d] + 1;
            if (padding == Padding.SAME) {
                int len = ke + s[d] - 2;
                lo[d] = s[d] > ke - 1 ? ke - 1 : (int) Math.ceil(len / 2.0);
                hi[d] = len - lo[d];
            } else if (padding == Padding.VALID || padding == Padding.CIRCULAR) {
                int len = ke + s[d] - 2 + Math.max(ke - s[d], 0);
                lo[d] = ke - 1;
                hi[d] = len - lo[d];
            } else if (padding == Padding.SAME_LOWER) {
                hi[d] = (ke - 1) / 2;
                lo[d] = ke - 1 - hi[d];
            } else if (padding instanceof Padding.Uniform u) {
                lo[d] = u.amount();
                hi[d] = u.amount();
            } else if (padding instanceof Padding.Explicit e) {
                lo[d] = e.lo()[d];
                hi[d] = e.hi()[d];
            } else {
                throw new IllegalArgumentException("no ConvTranspose reference for padding " + padding);
            }
        }
        int[] ones = new int[n];
        Arrays.fill(ones, 1);
        NaiveConv.Result y = NaiveConv.conv(x, xShape, kernel, kernelShape, null, ones, s, kd, null, lo, hi, 1);
        double[] values = y.values();
        double[] abs = y.absSums();
        int[] shape = y.shape();
        if (padding == Padding.CIRCULAR) {
            int batchDims = xShape.length - n - 1;
            for (int d = 0; d < n; d++) {
                int axis = batchDims + d;
                int period = xShape[axis] * s[d];
                int size = shape[axis];
                int diff = Math.floorMod(-(size - period), 2 * period);
                int before = transposeKernel ? diff / 2 : (diff + 1) / 2;
                values = padAndSumPeriods(values, shape, axis, before, diff, period);
                abs = padAndSumPeriods(abs, shape, axis, before, diff, period);
                shape[axis] = period;
            }
        }
        if (bias != null) {
            for (int i = 0; i < values.length; i++) {
                values[i] += bias[i % bias.length];
                abs[i] += Math.abs(bias[i % bias.length]);
            }
        }
        return new NaiveConv.Result(shape, values, abs);
    }

    /** jnp.pad(axis, (before, diff - before)), then reshape the axis to (-1, period) and sum the first. */
    private static double[] padAndSumPeriods(double[] values, int[] shape, int axis, int before, int diff,
            int period) {
        int outer = 1;
        for (int a = 0; a < axis; a++) {
            outer *= shape[a];
        }
        int inner = 1;
        for (int a = axis + 1; a < shape.length; a++) {
            inner *= shape[a];
        }
        int size = shape[axis];
        int paddedSize = size + diff;
        double[] padded = new double[outer * paddedSize * inner];
        for (int o = 0; o < outer; o++) {
            System.arraycopy(values, o * size * inner, padded, (o * paddedSize + before) * inner, size * inner);
        }
        double[] summed = new double[outer * period * inner];
        for (int o = 0; o < outer; o++) {
            for (int m = 0; m < paddedSize; m++) {
                for (int i = 0; i < inner; i++) {
                    summed[(o * period + m % period) * inner + i] += padded[(o * paddedSize + m) * inner + i];
                }
            }
        }
        return summed;
    }

    /** (*k, A, B) -> (*k, B, A) with every spatial axis reversed. */
    private static double[] flipAndSwap(double[] w, int[] shape) {
        int n = shape.length - 2;
        int a = shape[n];
        int b = shape[n + 1];
        int[] k = Arrays.copyOf(shape, n);
        int taps = w.length / Math.max(1, a * b);
        double[] result = new double[w.length];
        int[] tap = new int[n];
        for (int t = 0; t < taps; t++) {
            int rest = t;
            int flipped = 0;
            for (int d = n - 1; d >= 0; d--) {
                tap[d] = rest % k[d];
                rest /= k[d];
            }
            for (int d = 0; d < n; d++) {
                flipped = flipped * k[d] + (k[d] - 1 - tap[d]);
            }
            for (int i = 0; i < a; i++) {
                for (int j = 0; j < b; j++) {
                    result[(flipped * b + j) * a + i] = w[(t * a + i) * b + j];
                }
            }
        }
        return result;
    }
}
