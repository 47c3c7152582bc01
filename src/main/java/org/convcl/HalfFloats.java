package org.convcl;

import java.nio.ShortBuffer;

/**
 * Conversions between float32 and the 16-bit storage types, {@link DType#FLOAT16} (IEEE binary16) and
 * {@link DType#BFLOAT16}, on bit patterns held in {@code short}s.
 *
 * <p>float32 to either type rounds to nearest, ties to even, as IEEE 754's default: a finite value beyond the
 * type's range becomes an infinity of its sign (binary16: from 65520 in magnitude, the tie above 65504), values
 * below the smallest normal round to subnormals (binary16) or keep float32's subnormals (bfloat16, whose exponent
 * is float32's), and signed zeros keep their sign. Either type to float32 is exact.
 *
 * <p>NaN stays NaN of the same sign. binary16 follows NumPy ({@code npy_floatbits_to_halfbits}): the top 10 bits
 * of the float32 payload are kept as they are (a signalling NaN stays signalling), and a payload that would
 * vanish becomes 1, so the result is not an infinity. bfloat16 keeps the top 7 payload bits and sets the quiet
 * bit, as Intel's {@code VCVTNEPS2BF16} does. Back to float32, the payload is shifted into place unchanged.
 *
 * <p>Bit arithmetic only: Java 20's {@code Float.floatToFloat16} is not available to Java 17, and the same
 * integer formulation is what {@code kernels/convert.cl} uses for bfloat16. The {@code ...Bits} forms take and
 * give float32 bit patterns, so that NaN payloads never pass through a {@code float}, whose signalling NaNs a
 * platform may quiet. Stateless and thread-safe.
 */
public final class HalfFloats {
    private static final int FLOAT_SIGN = 0x8000_0000;
    private static final int FLOAT_INFINITY = 0x7f80_0000;
    private static final int FLOAT_MANTISSA = 0x007f_ffff;
    private static final int HALF_SIGN = 0x8000;
    private static final int HALF_INFINITY = 0x7c00;
    private static final int HALF_MANTISSA = 0x03ff;
    /** 65520 as float32: the tie between binary16's largest finite value 65504 and 65536, which rounds to even. */
    private static final int HALF_OVERFLOW = 0x477f_f000;
    /** 2^-14 as float32: binary16's smallest normal value. */
    private static final int HALF_SMALLEST_NORMAL = 0x3880_0000;
    /** 2^-25 as float32: half binary16's smallest subnormal; smaller magnitudes round to zero. */
    private static final int HALF_ZERO_TIE = 0x3300_0000;
    /** float32's exponent bias less binary16's (127 - 15), in float32's exponent field. */
    private static final int REBIAS = 112 << 23;
    /** Mantissa bits float32 has beyond binary16's. */
    private static final int HALF_DROPPED_BITS = 13;
    private static final int BFLOAT16_QUIET = 0x0040;

    private HalfFloats() {
    }

    /** {@code value} rounded to binary16 (nearest, ties to even), as its bits. */
    public static short floatToHalf(float value) {
        return floatBitsToHalf(Float.floatToRawIntBits(value));
    }

    /** The float32 whose bits are {@code bits} rounded to binary16 (nearest, ties to even), as its bits. */
    public static short floatBitsToHalf(int bits) {
        int sign = (bits >>> 16) & HALF_SIGN;
        int magnitude = bits & ~FLOAT_SIGN;
        if (magnitude >= FLOAT_INFINITY) {
            if (magnitude == FLOAT_INFINITY) {
                return (short) (sign | HALF_INFINITY);
            }
            int payload = (magnitude & FLOAT_MANTISSA) >>> HALF_DROPPED_BITS;
            return (short) (sign | HALF_INFINITY | (payload == 0 ? 1 : payload));
        }
        if (magnitude >= HALF_OVERFLOW) {
            return (short) (sign | HALF_INFINITY);
        }
        if (magnitude >= HALF_SMALLEST_NORMAL) {
            // A carry out of the mantissa steps the exponent up, which is the correct rounding, up to 65504.
            return (short) (sign | roundShifted(magnitude - REBIAS, HALF_DROPPED_BITS));
        }
        if (magnitude < HALF_ZERO_TIE) {
            return (short) sign;
        }
        // A subnormal binary16 counts units of 2^-24: the full significand m * 2^(e - 150) is m >> (126 - e),
        // a shift of 14 to 25 here. A carry to 0x400 gives the smallest normal, again correctly.
        int exponent = magnitude >>> 23;
        int significand = (magnitude & FLOAT_MANTISSA) | (1 << 23);
        return (short) (sign | roundShifted(significand, 126 - exponent));
    }

    /** The binary16 {@code half} as float32 (exact). */
    public static float halfToFloat(short half) {
        return Float.intBitsToFloat(halfToFloatBits(half));
    }

    /** The binary16 {@code half} as the bits of a float32 (exact; NaN payloads shifted into place unchanged). */
    public static int halfToFloatBits(short half) {
        int sign = (half & HALF_SIGN) << 16;
        int exponent = (half >>> 10) & 0x1f;
        int mantissa = half & HALF_MANTISSA;
        if (exponent == 0x1f) {
            return sign | FLOAT_INFINITY | (mantissa << HALF_DROPPED_BITS);
        }
        if (exponent != 0) {
            return sign | ((exponent << 23) + REBIAS) | (mantissa << HALF_DROPPED_BITS);
        }
        if (mantissa == 0) {
            return sign;
        }
        // Subnormal: normalise so that the leading 1 reaches bit 10, the implicit bit of a normal binary16.
        int shift = Integer.numberOfLeadingZeros(mantissa) - 21;
        int normalised = (mantissa << shift) & HALF_MANTISSA;
        return sign | ((113 - shift) << 23) | (normalised << HALF_DROPPED_BITS);
    }

    /** {@code value} rounded to bfloat16 (nearest, ties to even), as its bits. */
    public static short floatToBfloat16(float value) {
        return floatBitsToBfloat16(Float.floatToRawIntBits(value));
    }

    /** The float32 whose bits are {@code bits} rounded to bfloat16 (nearest, ties to even), as its bits. */
    public static short floatBitsToBfloat16(int bits) {
        if ((bits & ~FLOAT_SIGN) > FLOAT_INFINITY) {
            return (short) ((bits >>> 16) | BFLOAT16_QUIET);
        }
        // Adding just under half a unit, plus the kept part's lowest bit, rounds ties to even; a carry into the
        // exponent is the correct rounding, up to infinity beyond the largest finite bfloat16.
        int lowestKept = (bits >>> 16) & 1;
        return (short) ((bits + 0x7fff + lowestKept) >>> 16);
    }

    /** The bfloat16 {@code value} as float32 (exact). */
    public static float bfloat16ToFloat(short value) {
        return Float.intBitsToFloat(bfloat16ToFloatBits(value));
    }

    /** The bfloat16 {@code value} as the bits of a float32 (exact). */
    public static int bfloat16ToFloatBits(short value) {
        return value << 16;
    }

    /** {@code value} rounded to {@code type}, a 16-bit type, as its bits. */
    public static short encode(DType type, float value) {
        return sixteenBit(type) == DType.FLOAT16 ? floatToHalf(value) : floatToBfloat16(value);
    }

    /** The bits {@code value} of {@code type}, a 16-bit type, as float32 (exact). */
    public static float decode(DType type, short value) {
        return sixteenBit(type) == DType.FLOAT16 ? halfToFloat(value) : bfloat16ToFloat(value);
    }

    /** {@code target[targetOffset + i] = encode(type, source[sourceOffset + i])} for i below {@code count}. */
    public static void encode(DType type, float[] source, int sourceOffset, short[] target, int targetOffset,
            int count) {
        checkRange("source", source, sourceOffset, count);
        checkRange("target", target, targetOffset, count);
        if (sixteenBit(type) == DType.FLOAT16) {
            for (int i = 0; i < count; i++) {
                target[targetOffset + i] = floatToHalf(source[sourceOffset + i]);
            }
        } else {
            for (int i = 0; i < count; i++) {
                target[targetOffset + i] = floatToBfloat16(source[sourceOffset + i]);
            }
        }
    }

    /**
     * {@code encode(type, source[sourceOffset + i])} put at absolute index {@code targetIndex + i} of
     * {@code target}, for i below {@code count}; the buffer's position and limit stay as they are.
     */
    public static void encode(DType type, float[] source, int sourceOffset, ShortBuffer target, int targetIndex,
            int count) {
        checkRange("source", source, sourceOffset, count);
        checkRange("target", target, targetIndex, count);
        boolean half = sixteenBit(type) == DType.FLOAT16;
        for (int i = 0; i < count; i++) {
            float value = source[sourceOffset + i];
            target.put(targetIndex + i, half ? floatToHalf(value) : floatToBfloat16(value));
        }
    }

    /** {@code target[targetOffset + i] = decode(type, source[sourceOffset + i])} for i below {@code count}. */
    public static void decode(DType type, short[] source, int sourceOffset, float[] target, int targetOffset,
            int count) {
        checkRange("source", source, sourceOffset, count);
        checkRange("target", target, targetOffset, count);
        if (sixteenBit(type) == DType.FLOAT16) {
            for (int i = 0; i < count; i++) {
                target[targetOffset + i] = halfToFloat(source[sourceOffset + i]);
            }
        } else {
            for (int i = 0; i < count; i++) {
                target[targetOffset + i] = bfloat16ToFloat(source[sourceOffset + i]);
            }
        }
    }

    /**
     * {@code target[targetOffset + i] = decode(type, v)} for the value {@code v} at absolute index
     * {@code sourceIndex + i} of {@code source}, for i below {@code count}; the buffer's position stays as it is.
     */
    public static void decode(DType type, ShortBuffer source, int sourceIndex, float[] target, int targetOffset,
            int count) {
        checkRange("source", source, sourceIndex, count);
        checkRange("target", target, targetOffset, count);
        boolean half = sixteenBit(type) == DType.FLOAT16;
        for (int i = 0; i < count; i++) {
            short value = source.get(sourceIndex + i);
            target[targetOffset + i] = half ? halfToFloat(value) : bfloat16ToFloat(value);
        }
    }

    /** A whole array rounded to {@code type}, a 16-bit type. */
    public static short[] encode(DType type, float[] values) {
        checkRange("values", values, 0, 0);
        short[] bits = new short[values.length];
        encode(type, values, 0, bits, 0, values.length);
        return bits;
    }

    /** A whole array of {@code type}'s bits, a 16-bit type, as float32. */
    public static float[] decode(DType type, short[] bits) {
        checkRange("bits", bits, 0, 0);
        float[] values = new float[bits.length];
        decode(type, bits, 0, values, 0, bits.length);
        return values;
    }

    /** {@code value >> shift} rounded to nearest, ties to even; {@code shift} is 1 to 30. */
    private static int roundShifted(int value, int shift) {
        int kept = value >>> shift;
        int rest = value & ((1 << shift) - 1);
        int half = 1 << (shift - 1);
        return rest > half || (rest == half && (kept & 1) != 0) ? kept + 1 : kept;
    }

    private static DType sixteenBit(DType type) {
        if (type != DType.FLOAT16 && type != DType.BFLOAT16) {
            throw new IllegalArgumentException("type: got " + type + "; expected a 16-bit type, FLOAT16 or BFLOAT16");
        }
        return type;
    }

    /** Refuses a null {@code array} (a float[], short[] or ShortBuffer) and a range beyond its elements. */
    private static void checkRange(String what, Object array, int offset, int count) {
        if (array == null) {
            throw new IllegalArgumentException(what + ": got null; expected an array or buffer of values");
        }
        int length = array instanceof float[] floats ? floats.length
                : array instanceof short[] shorts ? shorts.length : ((ShortBuffer) array).limit();
        if (count < 0 || offset < 0 || offset > length - count) {
            throw new IndexOutOfBoundsException(what + ": offset " + offset + " and count " + count
                    + " must lie within its " + length + " elements (both >= 0, offset + count <= " + length + ")");
        }
    }
}
