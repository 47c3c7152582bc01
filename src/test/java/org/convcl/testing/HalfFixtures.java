package org.convcl.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.GZIPInputStream;

/**
 * NumPy's float16 conversions and the bfloat16 definition, as {@code scripts/torch-cases/half_fixtures.py} wrote
 * them under {@code src/test/resources/half/} (the script's docstring describes the files). Read once and shared.
 */
public final class HalfFixtures {
    private static final String ROOT = "/half/";

    /** For each binary16 bit pattern h (index h, 0 to 0xffff), the bits of NumPy's float32 value of it. */
    public static final int[] HALF_TO_FLOAT32 = ints(read("half_to_float32.bin.gz"), 0, 1 << 16);
    /** The float32 sweep with NumPy's float16 of each and the bfloat16 reference. */
    public static final Sweep SWEEP = sweep(read("float32_sweep.bin.gz"));

    private HalfFixtures() {
    }

    /**
     * float32 inputs (their bits) and the expected bits of each as binary16 ({@code half}, NumPy's) and as
     * bfloat16 ({@code bfloat16}, the definition on integers).
     */
    public record Sweep(int[] floatBits, short[] half, short[] bfloat16) {
        public int size() {
            return floatBits.length;
        }

        /** The inputs as floats (bit copies: NaN payloads as they are in the file). */
        public float[] floats() {
            float[] values = new float[floatBits.length];
            for (int i = 0; i < values.length; i++) {
                values[i] = Float.intBitsToFloat(floatBits[i]);
            }
            return values;
        }
    }

    /** The 65,536 binary16 bit patterns in order. */
    public static short[] allHalves() {
        short[] halves = new short[1 << 16];
        for (int i = 0; i < halves.length; i++) {
            halves[i] = (short) i;
        }
        return halves;
    }

    private static Sweep sweep(ByteBuffer data) {
        if (data.remaining() % 8 != 0) {
            throw new IllegalStateException("float32_sweep.bin.gz: " + data.remaining() + " bytes is not 8 per value");
        }
        int count = data.remaining() / 8;
        int[] bits = ints(data, 0, count);
        short[] half = shorts(data, 4 * count, count);
        short[] bfloat16 = shorts(data, 6 * count, count);
        return new Sweep(bits, half, bfloat16);
    }

    private static int[] ints(ByteBuffer data, int byteOffset, int count) {
        int[] values = new int[count];
        data.slice(byteOffset, 4 * count).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(values);
        return values;
    }

    private static short[] shorts(ByteBuffer data, int byteOffset, int count) {
        short[] values = new short[count];
        data.slice(byteOffset, 2 * count).order(ByteOrder.LITTLE_ENDIAN).asShortBuffer().get(values);
        return values;
    }

    private static ByteBuffer read(String name) {
        try (InputStream raw = HalfFixtures.class.getResourceAsStream(ROOT + name)) {
            if (raw == null) {
                throw new IllegalStateException("test resource " + ROOT + name + " is missing; run "
                        + "scripts/torch-cases/half_fixtures.py");
            }
            try (InputStream in = new GZIPInputStream(raw)) {
                return ByteBuffer.wrap(in.readAllBytes());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(ROOT + name, e);
        }
    }
}
