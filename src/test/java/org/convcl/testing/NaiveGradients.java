package org.convcl.testing;

import java.util.Arrays;
import org.convcl.Padding;

/**
 * An independent float64 reference for the input and kernel gradients of flax nnx.Conv as jax computes them,
 * with IEEE arithmetic over every implicit zero: padding and input dilation are zeros inserted into the operand
 * ({@code lax.pad}), and every product of the convolutions that jax derives is formed, so that a non-finite
 * weight or output gradient meeting such a zero gives {@code 0 * Inf = NaN}.
 *
 * <ul>
 * <li>{@code dK[t][ci][co] = sum over b, o of xp[b][o * s + t * kd][ci] * dy[b][o][co]}, where {@code xp} is
 * the padded, dilated input (jax's {@code _conv_general_dilated_transpose_rhs}: the forward's windows, the
 * input's zeros included).</li>
 * <li>{@code dx} at padded coordinate {@code p}: {@code sum over t of w[t] * dyz(p - t * kd)}, where
 * {@code dyz(u)} is {@code dy[u / s]} when {@code u} is a multiple of the stride inside the output, and a zero
 * otherwise (jax's {@code _conv_general_dilated_transpose_lhs}: dy dilated by the stride and padded, convolved
 * with the flipped kernel, which forms a product for every input element and tap). A zero-padded input
 * element {@code i} takes the value at {@code p = i * inputDilation + lo}, also where a negative padding
 * cropped it; CIRCULAR and REFLECT inputs sum the values at every padded coordinate that copies them
 * (the transpose of {@code jnp.pad}).</li>
 * </ul>
 *
 * <p>Written from those rules, sharing no code with the library; brute force, for small cases.
 */
public final class NaiveGradients {
    private NaiveGradients() {
    }

    /** Gradients and, per element, the sum of |terms| behind it (for the tolerance). */
    public record Result(double[] dx, double[] dxAbs, double[] dk, double[] dkAbs) {
    }

    public static Result of(double[] x, int[] xShape, double[] w, int[] wShape, double[] dy, int[] stridesIn,
            int[] inputDilationIn, int[] kernelDilationIn, Padding padding, int groups) {
        int n = wShape.length - 2;
        int[] s = Reference.expand(stridesIn, n);
        int[] ld = Reference.expand(inputDilationIn, n);
        int[] kd = Reference.expand(kernelDilationIn, n);
        int batchDims = xShape.length - n - 1;
        int batch = 1;
        for (int i = 0; i < batchDims; i++) {
            batch *= xShape[i];
        }
        int[] spatial = Arrays.copyOfRange(xShape, batchDims, batchDims + n);
        int[] k = Arrays.copyOf(wShape, n);
        int cin = xShape[xShape.length - 1];
        int cout = wShape[n + 1];
        int cinG = cin / groups;
        int coutG = cout / groups;
        NaiveConv.Pads pads = pads(spatial, k, s, kd, padding);
        int[] padded = new int[n];
        int[] out = new int[n];
        for (int d = 0; d < n; d++) {
            int dilated = spatial[d] == 0 ? 0 : (spatial[d] - 1) * ld[d] + 1;
            padded[d] = dilated + pads.lo()[d] + pads.hi()[d];
            out[d] = Math.max(0, Math.floorDiv(padded[d] - ((k[d] - 1) * kd[d] + 1), s[d]) + 1);
        }
        int inCount = NaiveConv.product(spatial);
        int outCount = NaiveConv.product(out);
        int taps = NaiveConv.product(k);
        double[] dk = new double[w.length];
        double[] dkAbs = new double[w.length];
        int[] oi = new int[n];
        int[] ti = new int[n];
        int[] p = new int[n];
        for (int b = 0; b < batch; b++) {
            for (int o = 0; o < outCount; o++) {
                NaiveConv.unflatten(o, out, oi);
                for (int t = 0; t < taps; t++) {
                    NaiveConv.unflatten(t, k, ti);
                    for (int d = 0; d < n; d++) {
                        p[d] = oi[d] * s[d] + ti[d] * kd[d];
                    }
                    int src = sourceOf(pads, p, spatial, ld);
                    for (int co = 0; co < cout; co++) {
                        double g = dy[(b * outCount + o) * cout + co];
                        for (int ci = 0; ci < cinG; ci++) {
                            double xv = src < 0 ? 0 : x[(b * inCount + src) * cin + co / coutG * cinG + ci];
                            int j = (t * cinG + ci) * cout + co;
                            dk[j] += xv * g;
                            dkAbs[j] += Math.abs(xv * g);
                        }
                    }
                }
            }
        }
        double[] dx = new double[x.length];
        double[] dxAbs = new double[x.length];
        double[] sum = new double[cin];
        double[] abs = new double[cin];
        int[] i = new int[n];
        boolean zeroMode = pads.mode().equals("zero");
        // Zero padding: each input element at its own padded coordinate. Edge modes: every padded coordinate,
        // summed onto the element it copies.
        int[] visit = zeroMode ? spatial : padded;
        for (int b = 0; b < batch; b++) {
            for (int v = 0; v < NaiveConv.product(visit); v++) {
                NaiveConv.unflatten(v, visit, i);
                for (int d = 0; d < n; d++) {
                    p[d] = zeroMode ? i[d] * ld[d] + pads.lo()[d] : i[d];
                }
                int target = zeroMode ? v : sourceOf(pads, p, spatial, ld);
                Arrays.fill(sum, 0);
                Arrays.fill(abs, 0);
                for (int t = 0; t < taps; t++) {
                    NaiveConv.unflatten(t, k, ti);
                    int o = 0;
                    boolean real = true;
                    for (int d = 0; d < n; d++) {
                        int u = p[d] - ti[d] * kd[d];
                        real &= u >= 0 && u % s[d] == 0 && u / s[d] < out[d];
                        o = o * out[d] + (real ? u / s[d] : 0);
                    }
                    for (int co = 0; co < cout; co++) {
                        double g = real ? dy[(b * outCount + o) * cout + co] : 0;
                        int group = co / coutG;
                        for (int ci = 0; ci < cinG; ci++) {
                            double term = w[(t * cinG + ci) * cout + co] * g;
                            sum[group * cinG + ci] += term;
                            abs[group * cinG + ci] += Math.abs(term);
                        }
                    }
                }
                for (int c = 0; c < cin; c++) {
                    dx[(b * inCount + target) * cin + c] += sum[c];
                    dxAbs[(b * inCount + target) * cin + c] += abs[c];
                }
            }
        }
        return new Result(dx, dxAbs, dk, dkAbs);
    }

    private static NaiveConv.Pads pads(int[] spatial, int[] k, int[] s, int[] kd, Padding padding) {
        int n = k.length;
        if (padding instanceof Padding.Named name) {
            return NaiveConv.resolve(spatial, k, s, kd, name.name(), null, null);
        }
        int[] lo = new int[n];
        int[] hi = new int[n];
        if (padding instanceof Padding.Uniform uniform) {
            Arrays.fill(lo, uniform.amount());
            Arrays.fill(hi, uniform.amount());
        } else {
            lo = ((Padding.Explicit) padding).lo();
            hi = ((Padding.Explicit) padding).hi();
        }
        return NaiveConv.resolve(spatial, k, s, kd, null, lo, hi);
    }

    /** Flat input position that padded coordinates {@code p} read, or -1 for a zero. */
    private static int sourceOf(NaiveConv.Pads pads, int[] p, int[] spatial, int[] ld) {
        int src = 0;
        for (int d = 0; d < p.length; d++) {
            int coord = NaiveConv.source(pads.mode(), p[d] - pads.lo()[d], spatial[d], ld[d]);
            if (coord < 0) {
                return -1;
            }
            src = src * spatial[d] + coord;
        }
        return src;
    }
}
