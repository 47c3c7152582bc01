package org.convcl.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.convcl.Activation;
import org.convcl.ConvGeometry;
import org.convcl.ConvTransposeGeometry;
import org.convcl.DType;
import org.convcl.EdgeMode;
import org.convcl.Tensor;
import org.convcl.backend.ConvBackend;
import org.convcl.nn.Conv;
import org.convcl.nn.ConvGradients;
import org.convcl.nn.ConvTranspose;

/**
 * A float16 or bfloat16 Conv or ConvTranspose layer's host calls on a golden case (issue 26): its forward and
 * backward on the case's input, kernel and bias, with a cotangent, and optionally a zeros-and-ones kernel mask and an
 * epilogue (random float32 scale and shift, relu, a call's residual), run on any backend ({@link #run}); and what
 * they must give ({@link #expected}): float64 on the rounded operands, each result with {@link HalfBound}'s bound for
 * the steps and roundings the layer's recipes take (below). Shared by the Java path's test and the comparison with the
 * OpenCL layer.
 *
 * <p>The references come from the case's {@link BilinearReference} {@code f} alone, by linearity: the forward is
 * {@code f(x, w) + bias}, {@code dx_i = <f(e_i, w), dy>} and {@code dk_j = <f(x, e_j), dy>}, their sums of |terms|
 * the same on absolute values and their product counts the same on ones. The bounds, with {@code K} the most
 * products behind a value and {@code rows} the output's positions:
 * <ul>
 *   <li>the output: K (plus the epilogue's 4 float32 operations, over magnitudes {@code |scale| S + |shift| +
 *       |residual|}), with 16-bit intermediates for a CIRCULAR transpose's fold;</li>
 *   <li>dx: with 16-bit intermediates for a CIRCULAR or REFLECT convolution (its padded input's gradient is folded)
 *       and, with an epilogue, for the rounded cotangent {@code dconv = dz * scale} (one float32 product more);</li>
 *   <li>dkernel: the same but the fold; dbias: {@code rows} 16-bit values summed in float32 (rounded ones with an
 *       epilogue);</li>
 *   <li>the epilogue's: dresidual is {@code dz = dy * relu'(z)}, one 16-bit value; dshift its float32 column sums;
 *       dscale the float32 column sums of {@code dz * conv} rounded, where {@code conv} is the recomputed output
 *       rounded to the type: two roundings of magnitude {@code |dz| S} each (the output's and the product's), three
 *       where the output is a fold of 16-bit intermediates, so the intermediates' bound on that many times the
 *       magnitude, with {@code K + rows} products.</li>
 * </ul>
 * An epilogue is not taken with a convolution whose dx is folded (CIRCULAR or REFLECT), so that dx sees one 16-bit
 * intermediate.
 *
 * @param golden the golden case's name
 * @param transpose whether the case and the layer are a ConvTranspose
 * @param dtype float16 or bfloat16
 * @param masked whether the layer has a zeros-and-ones mask
 * @param withEpilogue whether the layer has scale, shift and relu, and the calls a residual
 */
public record HalfLayerCase(String golden, boolean transpose, DType dtype, boolean masked, boolean withEpilogue) {
    private static final Activation ACTIVATION = Activation.relu();
    /** The float32 operations an epilogue adds to a value: scale, shift, residual and the activation. */
    private static final int EPILOGUE_OPERATIONS = 4;

    public static HalfLayerCase conv(String golden, DType dtype, boolean masked, boolean withEpilogue) {
        return new HalfLayerCase(golden, false, dtype, masked, withEpilogue);
    }

    public static HalfLayerCase transpose(String golden, DType dtype, boolean withEpilogue) {
        return new HalfLayerCase(golden, true, dtype, false, withEpilogue);
    }

    /** A result's float64 values and how far the layer's may lie from each. */
    public record Expected(double[] values, double[] bounds) {
    }

    /** The layer's results, by name: y, dx, dkernel, dbias, dscale, dshift, dresidual (those the layer has). */
    public Map<String, float[]> run(ConvBackend backend) {
        Operands o = operands();
        Map<String, float[]> results = new LinkedHashMap<>();
        Tensor y;
        ConvGradients g;
        if (transpose) {
            try (ConvTranspose layer = ConvTranspose.builder(o.kernel).bias(o.bias).mask(o.mask)
                    .spec(ConvTransposeReference.spec(o.c)).scale(o.scale).shift(o.shift)
                    .activation(withEpilogue ? ACTIVATION : Activation.identity()).dtype(dtype).backend(backend)
                    .build()) {
                assertEquals(dtype, layer.dtype());
                y = layer.apply(o.x, o.residual);
                g = layer.backward(o.x, o.residual, o.dy);
            }
        } else {
            try (Conv layer = Conv.builder(o.kernel).bias(o.bias).mask(o.mask).spec(o.c.spec()).scale(o.scale)
                    .shift(o.shift).activation(withEpilogue ? ACTIVATION : Activation.identity()).dtype(dtype)
                    .backend(backend).build()) {
                assertEquals(dtype, layer.dtype());
                y = layer.apply(o.x, o.residual);
                g = layer.backward(o.x, o.residual, o.dy);
            }
        }
        results.put("y", y.data());
        results.put("dx", g.dx().data());
        results.put("dkernel", g.dkernel().data());
        putPresent(results, "dbias", g.dbias());
        putPresent(results, "dscale", g.dscale());
        putPresent(results, "dshift", g.dshift());
        putPresent(results, "dresidual", g.dresidual());
        return results;
    }

    /** What {@link #run} must give, by the same names. */
    public Map<String, Expected> expected() {
        Operands o = operands();
        double[] x = Tolerance.toDouble(HalfBound.rounded(o.x, dtype).data());
        double[] w = Tolerance.toDouble(HalfBound.rounded(o.kernel, dtype).data());
        double[] bias = Tolerance.toDouble(HalfBound.rounded(o.bias, dtype).data());
        double[] dy = Tolerance.toDouble(HalfBound.rounded(o.dy, dtype).data());
        BilinearReference f = transpose ? ConvTransposeReference.of(o.c) : ConvReference.of(o.c);
        if (masked) {
            f = new MaskedReference(f, Tolerance.toDouble(o.mask.data()));
        }
        int channels = bias.length;
        long rows = dy.length / channels;

        double[] conv = f.apply(x, w);
        double[] convAbs = f.apply(abs(x), abs(w));
        for (int i = 0; i < conv.length; i++) {
            conv[i] += bias[i % channels];
            convAbs[i] += Math.abs(bias[i % channels]);
        }
        long forwardProducts = max(f.apply(ones(x.length), ones(w.length)));

        Map<String, Expected> expected = new LinkedHashMap<>();
        double[] dconv = dy;
        if (withEpilogue) {
            float[] scale = o.scale.data();
            float[] shift = o.shift.data();
            float[] residual = HalfBound.rounded(o.residual, dtype).data();
            double[] z = new double[conv.length];
            double[] y = NaiveEpilogue.apply(ACTIVATION, conv, channels, scale, shift, residual, z);
            double[] magnitudes = new double[y.length];
            double[] dz = new double[y.length];
            double[] dzAbs = new double[y.length];
            double[] dzConv = new double[y.length];
            double[] dzConvAbs = new double[y.length];
            dconv = new double[y.length];
            for (int i = 0; i < y.length; i++) {
                int c = i % channels;
                magnitudes[i] = Math.abs(scale[c]) * convAbs[i] + Math.abs(shift[c]) + Math.abs(residual[i]);
                dz[i] = dy[i] * NaiveEpilogue.derivative(ACTIVATION, z[i]);
                dzAbs[i] = Math.abs(dz[i]);
                dzConv[i] = dz[i] * conv[i];
                dzConvAbs[i] = (o.folded ? 3 : 2) * dzAbs[i] * convAbs[i];
                dconv[i] = dz[i] * scale[c];
            }
            expected.put("y", new Expected(y, HalfBound.bounds(dtype, forwardProducts + EPILOGUE_OPERATIONS,
                    o.folded, y, magnitudes)));
            double[] dshift = columnSums(dz, channels);
            expected.put("dshift", new Expected(dshift, HalfBound.float32SumBounds(rows,
                    columnSums(dzAbs, channels))));
            double[] dscale = columnSums(dzConv, channels);
            expected.put("dscale", new Expected(dscale, HalfBound.bounds(dtype, forwardProducts + rows, true,
                    dscale, columnSums(dzConvAbs, channels))));
            expected.put("dresidual", new Expected(dz, HalfBound.bounds(dtype, 0, false, dz, dzAbs)));
        } else {
            expected.put("y", new Expected(conv, HalfBound.bounds(dtype, forwardProducts, o.folded, conv,
                    convAbs)));
        }
        // With an epilogue, dconv holds the rounded products dz * scale: one float32 product and rounding more.
        int extra = withEpilogue ? 1 : 0;
        double[] dconvAbs = abs(dconv);
        double[] ones = ones(dconv.length);
        double[] dx = new double[x.length];
        double[] dxAbs = new double[x.length];
        long dxProducts = 0;
        for (int i = 0; i < x.length; i++) {
            double[] e = unit(x.length, i);
            dx[i] = GradientCheck.dot(f.apply(e, w), dconv);
            dxAbs[i] = GradientCheck.dot(f.apply(e, abs(w)), dconvAbs);
            dxProducts = Math.max(dxProducts, (long) GradientCheck.dot(f.apply(e, ones(w.length)), ones));
        }
        expected.put("dx", new Expected(dx, HalfBound.bounds(dtype, dxProducts + extra,
                withEpilogue || o.paddedInputFolded, dx, dxAbs)));
        double[] dk = new double[w.length];
        double[] dkAbs = new double[w.length];
        long dkProducts = 0;
        for (int j = 0; j < w.length; j++) {
            double[] e = unit(w.length, j);
            dk[j] = GradientCheck.dot(f.apply(x, e), dconv);
            dkAbs[j] = GradientCheck.dot(f.apply(abs(x), e), dconvAbs);
            dkProducts = Math.max(dkProducts, (long) GradientCheck.dot(f.apply(ones(x.length), e), ones));
        }
        expected.put("dkernel", new Expected(dk, HalfBound.bounds(dtype, dkProducts + extra, withEpilogue, dk,
                dkAbs)));
        double[] dbias = columnSums(dconv, channels);
        double[] dbiasAbs = columnSums(dconvAbs, channels);
        expected.put("dbias", new Expected(dbias, withEpilogue
                ? HalfBound.bounds(dtype, rows + 1, true, dbias, dbiasAbs)
                : HalfBound.float32SumBounds(rows, dbiasAbs)));
        return expected;
    }

    /** Asserts that {@code results} (from {@link #run}) are within the bounds of {@link #expected}. */
    public void assertWithinBounds(String what, Map<String, float[]> results) {
        Map<String, Expected> expected = expected();
        assertEquals(expected.keySet(), results.keySet(), what + ": the results the layer gives");
        expected.forEach((name, e) -> assertWithin(what + " " + name, e.values(), e.bounds(), results.get(name)));
    }

    /** Asserts that each value {@code got[i]} is within {@code bounds[i]} of the float64 {@code values[i]}. */
    private void assertWithin(String what, double[] values, double[] bounds, float[] got) {
        assertEquals(values.length, got.length, what + ": the number of values");
        for (int i = 0; i < got.length; i++) {
            assertTrue(Math.abs(got[i] - values[i]) <= bounds[i], what + " in " + dtype.cliName() + " (" + this
                    + "): value " + i + " is " + got[i] + ", float64 on the rounded operands gives " + values[i]
                    + "; the bound is " + bounds[i]);
        }
    }

    @Override
    public String toString() {
        return (transpose ? "ConvTranspose " : "Conv ") + golden + " " + dtype.cliName() + (masked ? " masked" : "")
                + (withEpilogue ? " with epilogue and residual" : "");
    }

    /**
     * The case's float32 operands (x, kernel, bias from the golden case; mask, scale, shift, residual and dy
     * random, from a seed of the case), and where the layer's recipe folds.
     */
    private record Operands(GoldenCase c, Tensor x, Tensor kernel, Tensor bias, Tensor mask, Tensor scale,
            Tensor shift, Tensor residual, Tensor dy, boolean folded, boolean paddedInputFolded) {
    }

    private Operands operands() {
        GoldenCase c = GoldenCase.ofOp(transpose ? "conv_transpose" : "conv").stream()
                .filter(g -> g.name().equals(golden)).findFirst()
                .orElseThrow(() -> new AssertionError(golden + " is no golden " + (transpose ? "transpose " : "")
                        + "case"));
        Tensor x = c.array("x");
        Tensor kernel = c.array("kernel");
        int[] outputShape;
        boolean folded = false;
        boolean paddedInputFolded = false;
        if (transpose) {
            ConvTransposeGeometry tg = ConvTransposeReference.spec(c).resolve(x.shape(), kernel.shape());
            outputShape = tg.outputShape();
            folded = tg.circularFold() != null;
        } else {
            ConvGeometry g = c.spec().resolve(x.shape(), kernel.shape());
            outputShape = g.outputShape();
            paddedInputFolded = g.edgeMode() != EdgeMode.ZERO;
        }
        if (withEpilogue && paddedInputFolded) {
            throw new IllegalArgumentException(this + ": an epilogue needs a convolution whose dx is not folded "
                    + "(see the bounds)");
        }
        int channels = outputShape[outputShape.length - 1];
        SplittableRandom random = new SplittableRandom(golden.hashCode() * 31L + dtype.ordinal());
        Tensor mask = null;
        if (masked) {
            mask = Tensor.zeros(kernel.shape());
            for (int i = 0; i < mask.size(); i++) {
                mask.data()[i] = random.nextBoolean() ? 1 : 0;
            }
        }
        Tensor scale = withEpilogue ? RandomTensors.uniform(random, channels) : null;
        Tensor shift = withEpilogue ? RandomTensors.uniform(random, channels) : null;
        Tensor residual = withEpilogue ? RandomTensors.uniform(random, outputShape) : null;
        Tensor dy = RandomTensors.uniform(random, outputShape);
        return new Operands(c, x, kernel, c.array("bias"), mask, scale, shift, residual, dy, folded,
                paddedInputFolded);
    }

    /** Adds a gradient the layer gave (not null) by its name. */
    private static void putPresent(Map<String, float[]> results, String name, Tensor gradient) {
        if (gradient != null) {
            results.put(name, gradient.data());
        }
    }

    private static double[] columnSums(double[] values, int channels) {
        double[] sums = new double[channels];
        for (int i = 0; i < values.length; i++) {
            sums[i % channels] += values[i];
        }
        return sums;
    }

    private static double[] abs(double[] values) {
        return GradientCheck.abs(values);
    }

    private static double[] ones(int length) {
        double[] ones = new double[length];
        Arrays.fill(ones, 1);
        return ones;
    }

    private static double[] unit(int length, int index) {
        double[] e = new double[length];
        e[index] = 1;
        return e;
    }

    private static long max(double[] counts) {
        double max = 0;
        for (double count : counts) {
            max = Math.max(max, count);
        }
        return (long) max;
    }
}
