package org.convcl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ShortBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntUnaryOperator;
import org.convcl.testing.HalfFixtures;
import org.junit.jupiter.api.Test;

/**
 * {@link HalfFloats} bit for bit against NumPy's float16 (every binary16 value to float32, and a float32 sweep
 * of ties, boundaries, subnormals, NaNs and random values to binary16) and against the bfloat16 definition computed
 * independently in Python on the same sweep; NaN payloads included. Then the bulk forms against the scalar ones.
 */
class HalfFloatsTest {
    private static final HalfFixtures.Sweep SWEEP = HalfFixtures.SWEEP;

    @Test
    void everyHalfBecomesNumpysFloat32() {
        int[] expected = HalfFixtures.HALF_TO_FLOAT32;
        assertBitsEqual("float16 -> float32", expected, h -> HalfFloats.halfToFloatBits((short) h));
        for (int i = 0; i < expected.length; i++) {
            int h = i;
            float value = HalfFloats.halfToFloat((short) h);
            float numpy = Float.intBitsToFloat(expected[h]);
            if (Float.isNaN(numpy)) {
                assertTrue(Float.isNaN(value), () -> "halfToFloat of NaN " + hex(h) + " is " + value);
            } else {
                assertEquals(expected[h], Float.floatToRawIntBits(value), () -> "halfToFloat(" + hex(h) + ")");
            }
        }
    }

    @Test
    void theSweepRoundsToNumpysFloat16() {
        assertBitsEqual("float32 -> float16", widen(SWEEP.half()),
                i -> HalfFloats.floatBitsToHalf(SWEEP.floatBits()[i]) & 0xffff);
    }

    @Test
    void theSweepRoundsToTheBfloat16Definition() {
        assertBitsEqual("float32 -> bfloat16", widen(SWEEP.bfloat16()),
                i -> HalfFloats.floatBitsToBfloat16(SWEEP.floatBits()[i]) & 0xffff);
    }

    @Test
    void bfloat16WidensByShifting() {
        for (int b = 0; b < 1 << 16; b++) {
            assertEquals(b << 16, HalfFloats.bfloat16ToFloatBits((short) b), hex(b));
        }
    }

    /** Narrowing a widened value gives it back: every binary16 and bfloat16 except NaN is exact in float32. */
    @Test
    void everyValueSurvivesARoundTrip() {
        for (int h = 0; h < 1 << 16; h++) {
            assertEquals((short) h, HalfFloats.floatBitsToHalf(HalfFloats.halfToFloatBits((short) h)), hex(h));
            if (!Float.isNaN(HalfFloats.bfloat16ToFloat((short) h))) {
                assertEquals((short) h, HalfFloats.floatBitsToBfloat16(HalfFloats.bfloat16ToFloatBits((short) h)),
                        hex(h));
            }
        }
    }

    /** The float forms agree with the bit forms wherever no NaN payload is at stake. */
    @Test
    void floatFormsAgreeWithBitForms() {
        float[] values = SWEEP.floats();
        for (int i = 0; i < values.length; i++) {
            if (!Float.isNaN(values[i])) {
                assertEquals(SWEEP.half()[i], HalfFloats.floatToHalf(values[i]), "value " + values[i]);
                assertEquals(SWEEP.bfloat16()[i], HalfFloats.floatToBfloat16(values[i]), "value " + values[i]);
            }
        }
    }

    @Test
    void bulkFormsMatchTheScalarOnesOverOffsetRanges() {
        float[] values = SWEEP.floats();
        int offset = 7;
        int count = values.length - 20;
        for (DType type : new DType[] {DType.FLOAT16, DType.BFLOAT16}) {
            short[] expected = type == DType.FLOAT16 ? SWEEP.half() : SWEEP.bfloat16();
            short[] intoArray = new short[count + 3];
            HalfFloats.encode(type, values, offset, intoArray, 3, count);
            ShortBuffer intoBuffer = ShortBuffer.allocate(count + 5).position(2);
            HalfFloats.encode(type, values, offset, intoBuffer, 5, count);
            assertEquals(2, intoBuffer.position(), "encode must leave the buffer's position");
            for (int i = 0; i < count; i++) {
                assertEquals(expected[offset + i], intoArray[3 + i], type + " array " + i);
                assertEquals(expected[offset + i], intoBuffer.get(5 + i), type + " buffer " + i);
            }

            float[] fromArray = new float[count + 1];
            HalfFloats.decode(type, intoArray, 3, fromArray, 1, count);
            float[] fromBuffer = new float[count + 1];
            HalfFloats.decode(type, intoBuffer, 5, fromBuffer, 1, count);
            for (int i = 0; i < count; i++) {
                float scalar = HalfFloats.decode(type, intoArray[3 + i]);
                assertEquals(Float.floatToIntBits(scalar), Float.floatToIntBits(fromArray[1 + i]), type + " " + i);
                assertEquals(Float.floatToIntBits(scalar), Float.floatToIntBits(fromBuffer[1 + i]), type + " " + i);
            }
            assertArrayEquals(HalfFloats.encode(type, values), encodeEach(type, values));
        }
    }

    @Test
    void refusesRangesOutsideTheArraysAndFloat32() {
        IndexOutOfBoundsException range = assertThrows(IndexOutOfBoundsException.class,
                () -> HalfFloats.encode(DType.FLOAT16, new float[4], 2, new short[4], 0, 3));
        assertEquals("source: offset 2 and count 3 must lie within its 4 elements (both >= 0, offset + count <= 4)",
                range.getMessage());
        assertThrows(IndexOutOfBoundsException.class,
                () -> HalfFloats.decode(DType.BFLOAT16, ShortBuffer.allocate(2), 0, new float[1], 0, -1));
        IllegalArgumentException wide = assertThrows(IllegalArgumentException.class,
                () -> HalfFloats.encode(DType.FLOAT32, 1f));
        assertEquals("type: got FLOAT32; expected a 16-bit type, FLOAT16 or BFLOAT16", wide.getMessage());
    }

    private static short[] encodeEach(DType type, float[] values) {
        short[] bits = new short[values.length];
        for (int i = 0; i < values.length; i++) {
            bits[i] = HalfFloats.encode(type, values[i]);
        }
        return bits;
    }

    private static int[] widen(short[] bits) {
        int[] values = new int[bits.length];
        for (int i = 0; i < bits.length; i++) {
            values[i] = bits[i] & 0xffff;
        }
        return values;
    }

    /** Every {@code actual.applyAsInt(i)} equals {@code expected[i]}; the first mismatches are listed. */
    static void assertBitsEqual(String what, int[] expected, IntUnaryOperator actual) {
        List<String> wrong = new ArrayList<>();
        int count = 0;
        for (int i = 0; i < expected.length; i++) {
            int got = actual.applyAsInt(i);
            if (got != expected[i]) {
                count++;
                if (wrong.size() < 10) {
                    wrong.add("entry " + i + ": expected " + hex(expected[i]) + ", got " + hex(got));
                }
            }
        }
        assertEquals(0, count, what + ": " + count + " of " + expected.length + " differ, e.g. " + wrong);
    }

    static String hex(int bits) {
        return "0x" + Integer.toHexString(bits);
    }
}
