package org.convcl.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.convcl.DType;
import org.convcl.HalfFloats;
import org.convcl.Tensor;

/**
 * The error bound of a forward convolution on float16 or bfloat16 operands against float64 on the same rounded
 * operands (issue 26). With {@code r} that exact result, {@code S} the sum of {@code |x * w|} behind it plus
 * {@code |bias|}, {@code K} its products ({@code taps * Cin / groups}), {@code p} the type's precision in bits (11
 * for float16, 8 for bfloat16) and {@code u32 = 2^-24} float32's unit roundoff: the float32 sum {@code s} of the K
 * products and the bias, one rounding per fma or add, is within {@code (K + 1) * u32 * S} of {@code r}; the store
 * rounds it to nearest even, within {@code 2^-p * |s|}, or half the smallest subnormal near zero. So
 * {@code |got - r| <= 2^-p * |r| + (1 + 2^-p) * (K + 1) * u32 * S + half the smallest subnormal}. The bound is
 * taken against the unrounded {@code r}, not {@code r} rounded to the type: where {@code s} and {@code r} straddle a
 * rounding boundary the two rounded values are a whole unit in the last place apart, which {@code 2^-p * |r|} does
 * not cover; against {@code r} each source of error is counted once.
 *
 * <p>Gradients and transposed convolutions (issue 26) use the same bound with {@code K} the number of products
 * summed into the value, whatever their order (a kernel gradient sums a whole batch: its Kahan blocks and
 * partials only make the float32 error smaller than {@code (K + 1) * u32 * S}). Where the value is the sum of
 * stored 16-bit intermediates (a CIRCULAR transpose or a padded input's gradient: a convolution into a 16-bit
 * temporary, then the fold's sum of it), each intermediate {@code u_i} was rounded once more, within
 * {@code 2^-p * |u_i|} plus half the smallest subnormal, and {@code sum |u_i| <= S}: {@code 2^-p * S} plus
 * {@code K} half steps more. A float32 result (the bias gradient) has no final rounding: only the float32 term.
 */
public final class HalfBound {
    private HalfBound() {
    }

    /** {@code tensor} with each value rounded to {@code dtype}, as float32 holds it exactly. */
    public static Tensor rounded(Tensor tensor, DType dtype) {
        return Tensor.of(HalfFloats.decode(dtype, HalfFloats.encode(dtype, tensor.data())), tensor.shape());
    }

    /**
     * Asserts that every {@code got} value (a value of {@code dtype}) is within the bound of the float64
     * {@code reference} computed on the rounded operands, {@code products} products per output.
     */
    public static void assertWithin(String what, DType dtype, int products, NaiveConv.Result reference,
            float[] got) {
        assertWithin(what, dtype, products, false, reference.values(), reference.absSums(), got);
    }

    /**
     * Asserts that every {@code got} value (a value of {@code dtype}) is within the bound of the float64
     * {@code values} (each the sum of {@code products} products whose magnitudes sum to {@code absSums}), with
     * the further rounding of 16-bit intermediates when {@code intermediates}.
     */
    public static void assertWithin(String what, DType dtype, long products, boolean intermediates, double[] values,
            double[] absSums, float[] got) {
        assertTrue(got.length == values.length, what + ": " + got.length + " values, the reference has "
                + values.length);
        double[] bounds = bounds(dtype, products, intermediates, values, absSums);
        for (int i = 0; i < got.length; i++) {
            double r = values[i];
            assertTrue(Math.abs(got[i] - r) <= bounds[i], what + " in " + dtype.cliName() + ": output " + i + " is "
                    + got[i] + ", float64 on the rounded operands gives " + r + "; the bound is " + bounds[i]);
        }
    }

    /**
     * The bound of each value of {@link #assertWithin(String, DType, long, boolean, double[], double[], float[])}:
     * how far a 16-bit result may lie from the float64 {@code values}.
     */
    public static double[] bounds(DType dtype, long products, boolean intermediates, double[] values,
            double[] absSums) {
        double unit = unit(dtype);
        double smallestHalfStep = dtype == DType.FLOAT16 ? 0x1p-25 : 0x1p-134;
        double[] bounds = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            bounds[i] = unit * Math.abs(values[i]) + (1 + unit) * (products + 1) * 0x1p-24 * absSums[i]
                    + smallestHalfStep;
            if (intermediates) {
                bounds[i] += unit * absSums[i] + products * smallestHalfStep;
            }
        }
        return bounds;
    }

    /**
     * Asserts that every float32 {@code got} value, the sum of {@code terms} 16-bit values summed in float32 and
     * stored in float32, is within {@code (terms + 1) * u32 * absSums[i]} of the float64 {@code values}.
     */
    public static void assertFloat32SumWithin(String what, long terms, double[] values, double[] absSums,
            float[] got) {
        assertTrue(got.length == values.length, what + ": " + got.length + " values, the reference has "
                + values.length);
        double[] bounds = float32SumBounds(terms, absSums);
        for (int i = 0; i < got.length; i++) {
            assertTrue(Math.abs(got[i] - values[i]) <= bounds[i], what + ": value " + i + " is " + got[i]
                    + ", float64 gives " + values[i] + "; the bound is " + bounds[i]);
        }
    }

    /** The bound of each value of {@link #assertFloat32SumWithin}: {@code (terms + 1) * u32 * absSums[i]}. */
    public static double[] float32SumBounds(long terms, double[] absSums) {
        double[] bounds = new double[absSums.length];
        for (int i = 0; i < bounds.length; i++) {
            bounds[i] = (terms + 1) * 0x1p-24 * absSums[i];
        }
        return bounds;
    }

    /** The unit roundoff of {@code dtype}'s rounding to nearest: 2^-11 for float16, 2^-8 for bfloat16. */
    private static double unit(DType dtype) {
        return dtype == DType.FLOAT16 ? 0x1p-11 : 0x1p-8;
    }
}
