package org.convcl.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.IntBuffer;
import java.nio.ShortBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntUnaryOperator;
import org.convcl.DType;
import org.convcl.HalfFloats;
import org.convcl.opencl.internal.runtime.ClBuffer;
import org.convcl.opencl.internal.runtime.OpenClContext;
import org.convcl.testing.HalfFixtures;
import org.convcl.testing.OpenClBackendPerClass;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code kernels/convert.cl} through {@link DeviceConversions}, bit for bit against {@link HalfFloats} (which
 * {@code HalfFloatsTest} holds to NumPy): the float32 sweep of ties, boundaries, subnormals, NaNs and random values
 * narrowed to float16 and to bfloat16, and every one of the 65,536 bit patterns of each widened to float32. The
 * data moves as integers on the host side, so NaN payloads reach the device and come back as they are.
 */
class ConversionsOpenClTest {
    @RegisterExtension
    static final OpenClBackendPerClass OPENCL = new OpenClBackendPerClass();

    private static final DType[] SIXTEEN_BIT = {DType.FLOAT16, DType.BFLOAT16};

    @Test
    void theFloatSweepNarrowsAsOnTheHost() {
        int[] bits = HalfFixtures.SWEEP.floatBits();
        OpenClContext context = OPENCL.backend().context();
        try (ClBuffer floats = context.allocate(4L * bits.length, "sweep");
                ClBuffer packed = context.allocate(2L * bits.length, "narrowed")) {
            ByteBuffer input = direct(4 * bits.length);
            input.asIntBuffer().put(bits);
            context.write(floats, input.asFloatBuffer());
            for (DType type : SIXTEEN_BIT) {
                OPENCL.backend().conversions().encode(type, bits.length, floats, packed);
                context.finish();
                ShortBuffer result = direct(2 * bits.length).asShortBuffer();
                context.read(packed, result);
                assertBitsEqual("float32 -> " + type, bits.length, i -> result.get(i) & 0xffff,
                        i -> (type == DType.FLOAT16 ? HalfFloats.floatBitsToHalf(bits[i])
                                : HalfFloats.floatBitsToBfloat16(bits[i])) & 0xffff, bits);
            }
        }
    }

    @Test
    void everySixteenBitPatternWidensAsOnTheHost() {
        short[] all = HalfFixtures.allHalves();
        OpenClContext context = OPENCL.backend().context();
        try (ClBuffer packed = context.allocate(2L * all.length, "all patterns");
                ClBuffer floats = context.allocate(4L * all.length, "widened")) {
            ShortBuffer input = direct(2 * all.length).asShortBuffer();
            input.put(all).flip();
            context.write(packed, input);
            for (DType type : SIXTEEN_BIT) {
                OPENCL.backend().conversions().decode(type, all.length, packed, floats);
                context.finish();
                ByteBuffer result = direct(4 * all.length);
                context.read(floats, result.asFloatBuffer());
                IntBuffer resultBits = result.asIntBuffer();
                assertBitsEqual(type + " -> float32", all.length, resultBits::get,
                        i -> type == DType.FLOAT16 ? HalfFloats.halfToFloatBits((short) i)
                                : HalfFloats.bfloat16ToFloatBits((short) i), null);
            }
        }
    }

    @Test
    void refusesFloat32AndBuffersTooSmall() {
        OpenClContext context = OPENCL.backend().context();
        DeviceConversions conversions = OPENCL.backend().conversions();
        try (ClBuffer floats = context.allocate(16, "floats"); ClBuffer packed = context.allocate(8, "packed")) {
            assertEquals("encode: type FLOAT32 is not a 16-bit type; expected FLOAT16 or BFLOAT16",
                    assertThrows(IllegalArgumentException.class,
                            () -> conversions.encode(DType.FLOAT32, 4, floats, packed)).getMessage());
            assertEquals("decode: floats holds 16 bytes, fewer than 5 float32 values need (20)",
                    assertThrows(IllegalArgumentException.class,
                            () -> conversions.decode(DType.FLOAT16, 5, packed, floats)).getMessage());
            assertEquals("encode: length -1 must be >= 0", assertThrows(IllegalArgumentException.class,
                    () -> conversions.encode(DType.BFLOAT16, -1, floats, packed)).getMessage());
        }
    }

    private static ByteBuffer direct(int bytes) {
        return ByteBuffer.allocateDirect(bytes).order(ByteOrder.nativeOrder());
    }

    /** {@code actual(i) == expected(i)} for every i below {@code count}; the first mismatches are listed. */
    private static void assertBitsEqual(String what, int count, IntUnaryOperator actual, IntUnaryOperator expected,
            int[] inputs) {
        List<String> wrong = new ArrayList<>();
        int differing = 0;
        for (int i = 0; i < count; i++) {
            int got = actual.applyAsInt(i);
            int want = expected.applyAsInt(i);
            if (got != want) {
                differing++;
                if (wrong.size() < 10) {
                    wrong.add("input 0x" + Integer.toHexString(inputs == null ? i : inputs[i]) + ": expected 0x"
                            + Integer.toHexString(want) + ", got 0x" + Integer.toHexString(got));
                }
            }
        }
        assertEquals(0, differing, what + ": " + differing + " of " + count + " differ on "
                + OPENCL.backend().name() + ", e.g. " + wrong);
    }
}
