package org.convcl.testing;

/**
 * A float64 reference for zero-padded convolutions whose strides, dilations and paddings are too large for
 * {@link NaiveConv}, which materialises the dilated, padded input: this one visits every (output position,
 * kernel tap) pair and finds the input element it reads from the rule alone, in 64-bit arithmetic
 * ({@code q = o * stride + t * kernelDilation - lo}; a real element where {@code 0 <= q <= (L - 1) * inputDilation}
 * and {@code q % inputDilation == 0}). The work is outputs times taps times channels, whatever the sizes. It gives
 * the forward and both gradients of {@code sum(conv(x, w) * dy)} straight from that pairing (no adjoint
 * geometry), with the sums of |terms| that {@link Tolerance} scales by. One batch dim (give 1 for none);
 * shares no code with the library.
 *
 * @param batch          batch elements
 * @param spatial        input spatial sizes
 * @param cin            input channels
 * @param kernel         kernel spatial sizes
 * @param cout           output channels
 * @param groups         feature groups
 * @param strides        per dim
 * @param inputDilation  per dim
 * @param kernelDilation per dim
 * @param lo             padding before each dim, in dilated-input coordinates (negative crops)
 * @param hi             padding after each dim
 */
public record SparseConv(int batch, int[] spatial, int cin, int[] kernel, int cout, int groups, int[] strides,
        int[] inputDilation, int[] kernelDilation, int[] lo, int[] hi) {

    /** A result: values and the sum of |terms| behind each. */
    public record Result(double[] values, double[] absSums) {
    }

    public int rank() {
        return spatial.length;
    }

    /** Output spatial sizes: {@code floor((Ld + lo + hi - ke) / stride) + 1}, at least 0. */
    public int[] outSpatial() {
        int[] out = new int[rank()];
        for (int d = 0; d < rank(); d++) {
            long dilated = spatial[d] == 0 ? 0 : (long) (spatial[d] - 1) * inputDilation[d] + 1;
            long extent = (long) (kernel[d] - 1) * kernelDilation[d] + 1;
            long count = Math.floorDiv(dilated + lo[d] + hi[d] - extent, (long) strides[d]) + 1;
            out[d] = (int) Math.max(0, count);
        }
        return out;
    }

    public int inputLength() {
        return batch * NaiveConv.product(spatial) * cin;
    }

    public int kernelLength() {
        return NaiveConv.product(kernel) * (cin / groups) * cout;
    }

    public int outputLength() {
        return batch * NaiveConv.product(outSpatial()) * cout;
    }

    /** {@code conv(x, w) + bias} (bias may be null). */
    public Result forward(double[] x, double[] w, double[] bias) {
        double[] y = new double[outputLength()];
        double[] abs = new double[y.length];
        if (bias != null) {
            for (int i = 0; i < y.length; i++) {
                y[i] = bias[i % cout];
                abs[i] = Math.abs(bias[i % cout]);
            }
        }
        visit((outIndex, inPixel, tap) -> {
            for (int co = 0; co < cout; co++) {
                int g = co / (cout / groups);
                for (int ci = 0; ci < cin / groups; ci++) {
                    double term = x[inPixel * cin + g * (cin / groups) + ci] * w[(tap * (cin / groups) + ci) * cout + co];
                    y[outIndex * cout + co] += term;
                    abs[outIndex * cout + co] += Math.abs(term);
                }
            }
        });
        return new Result(y, abs);
    }

    /** dx of {@code sum(conv(x, w) * dy)}. */
    public Result inputGradient(double[] w, double[] dy) {
        double[] dx = new double[inputLength()];
        double[] abs = new double[dx.length];
        visit((outIndex, inPixel, tap) -> {
            for (int co = 0; co < cout; co++) {
                int g = co / (cout / groups);
                for (int ci = 0; ci < cin / groups; ci++) {
                    double term = w[(tap * (cin / groups) + ci) * cout + co] * dy[outIndex * cout + co];
                    dx[inPixel * cin + g * (cin / groups) + ci] += term;
                    abs[inPixel * cin + g * (cin / groups) + ci] += Math.abs(term);
                }
            }
        });
        return new Result(dx, abs);
    }

    /** dw of {@code sum(conv(x, w) * dy)}, in the kernel layout {@code (*k, Cin/groups, Cout)}. */
    public Result kernelGradient(double[] x, double[] dy) {
        double[] dw = new double[kernelLength()];
        double[] abs = new double[dw.length];
        visit((outIndex, inPixel, tap) -> {
            for (int co = 0; co < cout; co++) {
                int g = co / (cout / groups);
                for (int ci = 0; ci < cin / groups; ci++) {
                    double term = x[inPixel * cin + g * (cin / groups) + ci] * dy[outIndex * cout + co];
                    dw[(tap * (cin / groups) + ci) * cout + co] += term;
                    abs[(tap * (cin / groups) + ci) * cout + co] += Math.abs(term);
                }
            }
        });
        return new Result(dw, abs);
    }

    /** dbias: dy summed per channel. */
    public Result biasGradient(double[] dy) {
        double[] db = new double[cout];
        double[] abs = new double[cout];
        for (int i = 0; i < dy.length; i++) {
            db[i % cout] += dy[i];
            abs[i % cout] += Math.abs(dy[i]);
        }
        return new Result(db, abs);
    }

    /** One (output position, input pixel, tap) pairing; indices are flat, batch included. */
    private interface Pair {
        void accept(int outIndex, int inPixel, int tap);
    }

    private void visit(Pair pair) {
        int n = rank();
        int[] out = outSpatial();
        int outCount = NaiveConv.product(out);
        int taps = NaiveConv.product(kernel);
        int inCount = NaiveConv.product(spatial);
        int[] o = new int[n];
        int[] t = new int[n];
        for (int b = 0; b < batch; b++) {
            for (int op = 0; op < outCount; op++) {
                NaiveConv.unflatten(op, out, o);
                for (int tap = 0; tap < taps; tap++) {
                    NaiveConv.unflatten(tap, kernel, t);
                    long pixel = 0;
                    boolean real = true;
                    for (int d = 0; d < n && real; d++) {
                        long q = (long) o[d] * strides[d] + (long) t[d] * kernelDilation[d] - lo[d];
                        real = q >= 0 && q <= (long) (spatial[d] - 1) * inputDilation[d] && q % inputDilation[d] == 0;
                        pixel = pixel * spatial[d] + (real ? q / inputDilation[d] : 0);
                    }
                    if (real) {
                        pair.accept(b * outCount + op, (int) (b * inCount + pixel), tap);
                    }
                }
            }
        }
    }
}
