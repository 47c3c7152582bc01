package org.convcl.nn;

import org.convcl.DType;
import org.convcl.HalfFloats;

/**
 * A host array in a 16-bit layer's recipes on the Java path ({@link HalfHostConvOps}): the bits of the layer's type,
 * or float32 values where the recipes keep float32 as a device does (a bias gradient, the epilogue's scale and
 * shift). Exactly one of {@code bits} and {@code floats} is set. Holds its array by reference.
 *
 * @param dtype the type of the values: float16 or bfloat16 for bits, float32 for floats
 * @param bits the 16-bit values, or null
 * @param floats the float32 values, or null
 */
record HalfHostArray(DType dtype, short[] bits, float[] floats) {
    HalfHostArray {
        if ((bits == null) == (floats == null) || (floats != null) != (dtype == DType.FLOAT32)) {
            throw new IllegalArgumentException("a host array holds either 16-bit bits or float32 values, "
                    + "as its dtype says; got dtype " + dtype + (bits == null ? "" : ", bits")
                    + (floats == null ? "" : ", floats"));
        }
    }

    /** {@code bits} of {@code dtype}; null for null (an absent operand). */
    static HalfHostArray ofBits(DType dtype, short[] bits) {
        return bits == null ? null : new HalfHostArray(dtype, bits, null);
    }

    /** {@code values} as float32; null for null. */
    static HalfHostArray ofFloats(float[] values) {
        return values == null ? null : new HalfHostArray(DType.FLOAT32, null, values);
    }

    /** {@code values} rounded to nearest even in {@code dtype}; null for null. */
    static HalfHostArray rounded(DType dtype, float[] values) {
        return values == null ? null : ofBits(dtype, HalfFloats.encode(dtype, values));
    }

    /** The bits of {@code array}, or null for null. */
    static short[] bitsOf(HalfHostArray array) {
        return array == null ? null : array.bits;
    }

    /** The float32 values of {@code array}, or null for null. */
    static float[] floatsOf(HalfHostArray array) {
        return array == null ? null : array.floats;
    }

    /** The values as float32: the bits widened into a new array, or the float32 values themselves. */
    float[] widened() {
        return floats != null ? floats : HalfFloats.decode(dtype, bits);
    }
}
