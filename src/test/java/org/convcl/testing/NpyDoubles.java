package org.convcl.testing;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Reads the golden suite's float64 reference arrays at full precision (the library's reader converts to
 * float32). Test-only and trusting: the golden files are known good.
 */
public final class NpyDoubles {
    private NpyDoubles() {
    }

    public static double[] read(InputStream in) throws IOException {
        byte[] bytes = in.readAllBytes();
        ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int major = bytes[6];
        int headerLength = major == 1 ? buffer.getShort(8) & 0xffff : buffer.getInt(8);
        int start = (major == 1 ? 10 : 12) + headerLength;
        String header = new String(bytes, major == 1 ? 10 : 12, headerLength, StandardCharsets.ISO_8859_1);
        boolean isDouble = header.contains("f8");
        ByteOrder order = header.contains("'>") ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
        ByteBuffer data = ByteBuffer.wrap(bytes, start, bytes.length - start).slice().order(order);
        int count = (bytes.length - start) / (isDouble ? 8 : 4);
        double[] values = new double[count];
        for (int i = 0; i < count; i++) {
            values[i] = isDouble ? data.getDouble() : data.getFloat();
        }
        return values;
    }
}
