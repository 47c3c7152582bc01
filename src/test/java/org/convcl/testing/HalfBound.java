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
        double unit = dtype == DType.FLOAT16 ? 0x1p-11 : 0x1p-8;
        double smallestHalfStep = dtype == DType.FLOAT16 ? 0x1p-25 : 0x1p-134;
        for (int i = 0; i < got.length; i++) {
            double r = reference.values()[i];
            double bound = unit * Math.abs(r) + (1 + unit) * (products + 1) * 0x1p-24 * reference.absSums()[i]
                    + smallestHalfStep;
            assertTrue(Math.abs(got[i] - r) <= bound, what + " in " + dtype.cliName() + ": output " + i + " is "
                    + got[i] + ", float64 on the rounded operands gives " + r + "; the bound is " + bound);
        }
    }
}
