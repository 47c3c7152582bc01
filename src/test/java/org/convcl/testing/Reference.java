package org.convcl.testing;

import java.util.Arrays;
import org.convcl.Padding;

/** Runs {@link NaiveConv} on a golden case or on library-typed settings. */
public final class Reference {
    private Reference() {
    }

    public static NaiveConv.Result forward(GoldenCase c) {
        double[] bias = c.has("bias") ? Tolerance.toDouble(c.array("bias").data()) : null;
        return forward(Tolerance.toDouble(c.array("x").data()), c.array("x").shape(),
                Tolerance.toDouble(c.array("kernel").data()), c.array("kernel").shape(), bias, c.strides(),
                c.inputDilation(), c.kernelDilation(), c.libraryPadding(), c.groups());
    }

    /** Per-dim settings may be one int (broadcast) or n ints, as in the library. */
    public static NaiveConv.Result forward(double[] x, int[] xShape, double[] w, int[] wShape, double[] bias,
            int[] strides, int[] inputDilation, int[] kernelDilation, Padding padding, int groups) {
        int n = wShape.length - 2;
        String named = null;
        int[] lo = new int[n];
        int[] hi = new int[n];
        if (padding instanceof Padding.Named name) {
            named = name.name();
        } else if (padding instanceof Padding.Uniform uniform) {
            Arrays.fill(lo, uniform.amount());
            Arrays.fill(hi, uniform.amount());
        } else {
            lo = ((Padding.Explicit) padding).lo();
            hi = ((Padding.Explicit) padding).hi();
        }
        return NaiveConv.conv(x, xShape, w, wShape, bias, expand(strides, n), expand(inputDilation, n),
                expand(kernelDilation, n), named, lo, hi, groups);
    }

    public static int[] expand(int[] values, int n) {
        if (values.length == n) {
            return values;
        }
        int[] expanded = new int[n];
        Arrays.fill(expanded, values[0]);
        return expanded;
    }
}
