package org.convcl.testing;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Builds raw {@code .npy} bytes by hand, independently of the library's writer, so that tests can make any
 * file numpy could write (other dtypes, byte orders, format versions) and files it never would (hostile
 * headers, wrong sizes).
 */
public final class NpyBytes {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};

    private NpyBytes() {
    }

    /** A file of format {@code major}.0 with the header dict {@code dict} (padded as numpy pads) and data. */
    public static byte[] file(int major, String dict, byte[] data) {
        int prefix = major == 1 ? 10 : 12;
        int unpadded = prefix + dict.length() + 1;
        String header = dict + " ".repeat((64 - unpadded % 64) % 64) + "\n";
        byte[] headerBytes = header.getBytes(major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        return withHeaderLength(major, headerBytes.length, headerBytes, data);
    }

    /** A file whose header-length field says {@code declaredLength}, whatever the header really holds. */
    public static byte[] withHeaderLength(int major, long declaredLength, byte[] headerBytes, byte[] data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(MAGIC);
        out.write(major);
        out.write(0);
        ByteBuffer length = ByteBuffer.allocate(major == 1 ? 2 : 4).order(ByteOrder.LITTLE_ENDIAN);
        if (major == 1) {
            length.putShort((short) declaredLength);
        } else {
            length.putInt((int) declaredLength);
        }
        out.writeBytes(length.array());
        out.writeBytes(headerBytes);
        out.writeBytes(data);
        return out.toByteArray();
    }

    /** numpy's header dict for {@code descr}, C order, and the shape text as Python writes it, e.g. "(3,)". */
    public static String dict(String descr, String shape) {
        return dict(descr, false, shape);
    }

    public static String dict(String descr, boolean fortranOrder, String shape) {
        return "{'descr': '" + descr + "', 'fortran_order': " + (fortranOrder ? "True" : "False") + ", 'shape': "
                + shape + ", }";
    }

    /** {@code values} encoded as float32 in {@code order}. */
    public static byte[] floats(ByteOrder order, float... values) {
        ByteBuffer buffer = ByteBuffer.allocate(4 * values.length).order(order);
        for (float v : values) {
            buffer.putFloat(v);
        }
        return buffer.array();
    }

    /** {@code values} encoded as float64 in {@code order}. */
    public static byte[] doubles(ByteOrder order, double... values) {
        ByteBuffer buffer = ByteBuffer.allocate(8 * values.length).order(order);
        for (double v : values) {
            buffer.putDouble(v);
        }
        return buffer.array();
    }
}
