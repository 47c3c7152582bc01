package org.convcl.testing;

import java.util.Arrays;

/**
 * An independent float64 reference for flax nnx.Conv, written for the tests from the rules in the design
 * notes and deliberately naive: it resolves string paddings itself, materialises the padded, dilated input
 * in double precision, and then runs a VALID strided convolution by brute force. It shares no code with the
 * library.
 */
public final class NaiveConv {
    private NaiveConv() {
    }

    /** Result of a reference convolution: values, and the sum of |x * w| terms behind each output. */
    public record Result(int[] shape, double[] values, double[] absSums) {
    }

    /**
     * @param padding one of "SAME", "SAME_LOWER", "VALID", "CIRCULAR", "REFLECT", "CAUSAL", or null when
     *                {@code lo} and {@code hi} give explicit padding
     */
    public static Result conv(double[] x, int[] xShape, double[] w, int[] wShape, double[] bias, int[] strides,
            int[] inputDilation, int[] kernelDilation, String padding, int[] lo, int[] hi, int groups) {
        int n = wShape.length - 2;
        int batchDims = xShape.length - n - 1;
        int batch = 1;
        for (int i = 0; i < batchDims; i++) {
            batch *= xShape[i];
        }
        int[] spatial = Arrays.copyOfRange(xShape, batchDims, batchDims + n);
        int cin = xShape[xShape.length - 1];
        int cout = wShape[n + 1];
        int cinG = cin / groups;
        int coutG = cout / groups;
        int[] k = Arrays.copyOf(wShape, n);
        int[] ke = new int[n];
        for (int d = 0; d < n; d++) {
            ke[d] = (k[d] - 1) * kernelDilation[d] + 1;
        }
        Pads pads = resolve(spatial, k, strides, kernelDilation, padding, lo, hi);
        int[] padLo = pads.lo();
        int[] padHi = pads.hi();
        String mode = pads.mode();
        // Materialise the dilated, padded input per batch element: size P[d] = Ld + lo + hi.
        int[] padded = new int[n];
        for (int d = 0; d < n; d++) {
            int dilated = spatial[d] == 0 ? 0 : (spatial[d] - 1) * inputDilation[d] + 1;
            padded[d] = dilated + padLo[d] + padHi[d];
        }
        int[] outSpatial = new int[n];
        for (int d = 0; d < n; d++) {
            outSpatial[d] = Math.max(0, Math.floorDiv(padded[d] - ke[d], strides[d]) + 1);
        }
        int paddedCount = product(padded);
        int outCount = product(outSpatial);
        int taps = product(k);
        double[] y = new double[batch * outCount * cout];
        double[] abs = new double[y.length];
        int inCount = product(spatial);
        for (int b = 0; b < batch; b++) {
            double[] p = new double[paddedCount * cin];
            int[] pi = new int[n];
            for (int flat = 0; flat < paddedCount; flat++) {
                unflatten(flat, padded, pi);
                int src = 0;
                boolean zero = false;
                for (int d = 0; d < n; d++) {
                    int q = pi[d] - padLo[d];
                    int coord;
                    if (mode.equals("CIRCULAR")) {
                        coord = Math.floorMod(q, spatial[d]);
                    } else if (mode.equals("REFLECT")) {
                        coord = reflect(q, spatial[d]);
                    } else {
                        if (q < 0 || q % inputDilation[d] != 0 || q / inputDilation[d] >= spatial[d]) {
                            zero = true;
                            break;
                        }
                        coord = q / inputDilation[d];
                    }
                    src = src * spatial[d] + coord;
                }
                if (!zero) {
                    for (int c = 0; c < cin; c++) {
                        p[flat * cin + c] = x[(b * inCount + src) * cin + c];
                    }
                }
            }
            int[] oi = new int[n];
            int[] ti = new int[n];
            for (int o = 0; o < outCount; o++) {
                unflatten(o, outSpatial, oi);
                for (int co = 0; co < cout; co++) {
                    int g = co / coutG;
                    double sum = bias == null ? 0 : bias[co];
                    double absSum = bias == null ? 0 : Math.abs(bias[co]);
                    for (int t = 0; t < taps; t++) {
                        unflatten(t, k, ti);
                        int pos = 0;
                        for (int d = 0; d < n; d++) {
                            pos = pos * padded[d] + oi[d] * strides[d] + ti[d] * kernelDilation[d];
                        }
                        for (int ci = 0; ci < cinG; ci++) {
                            double term = p[pos * cin + g * cinG + ci] * w[(t * cinG + ci) * cout + co];
                            sum += term;
                            absSum += Math.abs(term);
                        }
                    }
                    y[(b * outCount + o) * cout + co] = sum;
                    abs[(b * outCount + o) * cout + co] = absSum;
                }
            }
        }
        int[] outShape = new int[batchDims + n + 1];
        System.arraycopy(xShape, 0, outShape, 0, batchDims);
        System.arraycopy(outSpatial, 0, outShape, batchDims, n);
        outShape[outShape.length - 1] = cout;
        return new Result(outShape, y, abs);
    }

    /** Resolved padding: per-dim amounts, and "zero", "CIRCULAR" or "REFLECT" for what a padded element reads. */
    public record Pads(int[] lo, int[] hi, String mode) {
    }

    /**
     * Resolves a padding as flax does, for spatial sizes {@code spatial} and kernel sizes {@code k}.
     *
     * @param padding a named padding (see {@link #conv}), or null when {@code lo} and {@code hi} are explicit
     */
    public static Pads resolve(int[] spatial, int[] k, int[] strides, int[] kernelDilation, String padding,
            int[] lo, int[] hi) {
        int n = k.length;
        int[] padLo = new int[n];
        int[] padHi = new int[n];
        String mode = "zero";
        if (padding == null) {
            return new Pads(lo.clone(), hi.clone(), mode);
        }
        for (int d = 0; d < n; d++) {
            int ke = (k[d] - 1) * kernelDilation[d] + 1;
            switch (padding) {
                case "SAME", "SAME_LOWER" -> {
                    int out = (spatial[d] + strides[d] - 1) / strides[d];
                    int total = Math.max(0, (out - 1) * strides[d] + ke - spatial[d]);
                    padLo[d] = padding.equals("SAME") ? total / 2 : total - total / 2;
                    padHi[d] = total - padLo[d];
                }
                case "VALID" -> {
                }
                case "CIRCULAR", "REFLECT" -> {
                    padLo[d] = (ke - 1) / 2;
                    padHi[d] = ke / 2;
                    mode = padding;
                }
                case "CAUSAL" -> padLo[d] = (k[d] - 1) * kernelDilation[d];
                default -> throw new IllegalArgumentException(padding);
            }
        }
        return new Pads(padLo, padHi, mode);
    }

    /**
     * The input coordinate that padded coordinate {@code q} (0 = first input element, after dilation) reads
     * along a dim of {@code length} elements, or -1 for a zero of the padding or of input dilation.
     */
    public static int source(String mode, int q, int length, int inputDilation) {
        if (mode.equals("CIRCULAR")) {
            return Math.floorMod(q, length);
        }
        if (mode.equals("REFLECT")) {
            return reflect(q, length);
        }
        if (q < 0 || q % inputDilation != 0 || q / inputDilation >= length) {
            return -1;
        }
        return q / inputDilation;
    }

    private static int reflect(int q, int length) {
        if (length == 1) {
            return 0;
        }
        // Mirror repeatedly until q lands inside [0, length): numpy's 'reflect' mode, edge not repeated.
        while (q < 0 || q >= length) {
            q = q < 0 ? -q : 2 * (length - 1) - q;
        }
        return q;
    }

    /** Row-major coordinates of {@code flat} within {@code sizes}, into {@code index}. */
    static void unflatten(int flat, int[] sizes, int[] index) {
        for (int d = sizes.length - 1; d >= 0; d--) {
            index[d] = flat % sizes[d];
            flat /= sizes[d];
        }
    }

    /** The element count of a shape. */
    static int product(int[] sizes) {
        int p = 1;
        for (int s : sizes) {
            p *= s;
        }
        return p;
    }
}
