package org.convcl.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.convcl.Tensor;
import org.convcl.testing.BilinearReference;
import org.convcl.testing.GradientCheck;
import org.convcl.testing.NaiveConv;
import org.convcl.testing.NaiveEpilogue;
import org.convcl.testing.Tolerance;

/**
 * The float64 gradients of {@code sum(act(conv(x) * scale + shift + residual) * dy)} for an
 * {@link EpilogueFixture}, by the chain rule over the references: {@code dz = dy * act'(z)}
 * ({@link NaiveEpilogue#derivative}, relu's 0 at 0 as jax's), {@code dconv = dz * scale}, and the convolution's
 * input and kernel gradients as exact adjoints of its bilinear float64 reference ({@code dx_j = <f(e_j, w), dconv>},
 * {@code dw_j = <f(x, e_j), dconv>}). Each comes with the scale of its terms for {@link Tolerance}: the float32 result
 * meets rounding in the convolution it recomputes, in the activation's derivative and in its sums, each bounded by
 * the terms' magnitudes with the slope bound in place of {@code act'}.
 */
record EpilogueGradients(double[] dz, double[] dzScale, double[] dx, double[] dxScale, double[] dkernel,
        double[] dkernelScale, double[] dbias, double[] dbiasScale, double[] dscale, double[] dscaleScale,
        double[] dshift, double[] dshiftScale) {

    static EpilogueGradients of(EpilogueFixture f) {
        NaiveConv.Result conv = f.referenceConv();
        double[] z = new double[conv.values().length];
        NaiveEpilogue.apply(f.activation, conv.values(), f.channels, f.scale, f.shift, f.residual, z);
        double[] zError = NaiveEpilogue.errorScale(f.activation, conv.values(), conv.absSums(), f.channels, f.scale,
                f.shift, f.residual);
        double slope = NaiveEpilogue.slopeBound(f.activation);
        int n = z.length;
        int c = f.channels;
        double[] dz = new double[n];
        double[] dzScale = new double[n];
        double[] dconv = new double[n];
        double[] dconvScale = new double[n];
        double[] dbias = new double[c];
        double[] dbiasScale = new double[c];
        double[] dscale = new double[c];
        double[] dscaleScale = new double[c];
        double[] dshift = new double[c];
        double[] dshiftScale = new double[c];
        for (int i = 0; i < n; i++) {
            int channel = i % c;
            double s = f.scale == null ? 1 : f.scale[channel];
            dz[i] = f.dy[i] * NaiveEpilogue.derivative(f.activation, z[i]);
            dzScale[i] = Math.abs(f.dy[i]) * (slope + zError[i]);
            dconv[i] = dz[i] * s;
            dconvScale[i] = dzScale[i] * Math.abs(s);
            dbias[channel] += dconv[i];
            dbiasScale[channel] += dconvScale[i];
            dscale[channel] += dz[i] * conv.values()[i];
            dscaleScale[channel] += dzScale[i] * (Math.abs(conv.values()[i]) + conv.absSums()[i]);
            dshift[channel] += dz[i];
            dshiftScale[channel] += dzScale[i];
        }
        BilinearReference f64 = f.bilinear();
        double[] x = Tolerance.toDouble(f.x);
        double[] w = Tolerance.toDouble(f.kernel);
        double[] absX = GradientCheck.abs(x);
        double[] absW = GradientCheck.abs(w);
        double[] dx = new double[x.length];
        double[] dxScale = new double[x.length];
        for (int j = 0; j < x.length; j++) {
            double[] unit = new double[x.length];
            unit[j] = 1;
            dx[j] = GradientCheck.dot(f64.apply(unit, w), dconv);
            dxScale[j] = GradientCheck.dot(f64.apply(unit, absW), dconvScale);
        }
        double[] dkernel = new double[w.length];
        double[] dkernelScale = new double[w.length];
        for (int j = 0; j < w.length; j++) {
            double[] unit = new double[w.length];
            unit[j] = 1;
            dkernel[j] = GradientCheck.dot(f64.apply(x, unit), dconv);
            dkernelScale[j] = GradientCheck.dot(f64.apply(absX, unit), dconvScale);
        }
        return new EpilogueGradients(dz, dzScale, dx, dxScale, dkernel, dkernelScale, dbias, dbiasScale, dscale,
                dscaleScale, dshift, dshiftScale);
    }

    void assertInput(String what, float[] channelsLast) {
        GradientCheck.assertClose(what + " dx", dx, dxScale, channelsLast);
    }

    void assertKernel(String what, float[] held) {
        GradientCheck.assertClose(what + " dkernel", dkernel, dkernelScale, held);
    }

    /** A per-channel gradient: {@code (Cout)} close to {@code expected} when the layer has the part, else null. */
    void assertPerChannel(String what, boolean present, double[] expected, double[] scale, Tensor got) {
        if (!present) {
            assertNull(got, what + ": the layer has no such part, so no gradient");
            return;
        }
        assertArrayEquals(new int[] {expected.length}, got.shape(), what + ": shape");
        GradientCheck.assertClose(what, expected, scale, got.data());
    }
}
