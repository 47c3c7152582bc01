package org.convcl.opencl.internal.runtime;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import org.convcl.internal.CpuWorkers;

/**
 * Copies between Java arrays (floats, or the shorts of float16 / bfloat16 bits) and pinned staging memory: the one
 * step of a host-array transfer that the CPU does. One core copies several GB/s, less than a PCIe 5 link carries,
 * so large copies are split across the Java path's threads ({@link CpuWorkers}) (memory bandwidth then sets the
 * pace); small ones stay on the caller's thread.
 */
public final class HostCopy {
    /** Elements per part of a parallel copy: big enough that a part costs far more than handing it to a thread. */
    private static final int PART_ELEMENTS = 256 << 10;

    private HostCopy() {
    }

    /** Copies {@code source[from, from + count)} to the start of {@code staging}. */
    public static void toStaging(float[] source, int from, ByteBuffer staging, int count) {
        inParts(count, (start, length) -> floats(staging).position(start).put(source, from + start, length));
    }

    /** Copies the first {@code count} floats of {@code staging} into {@code target[from, from + count)}. */
    public static void fromStaging(ByteBuffer staging, float[] target, int from, int count) {
        inParts(count, (start, length) -> floats(staging).position(start).get(target, from + start, length));
    }

    /** Copies {@code source[from, from + count)} to the start of {@code staging}. */
    public static void toStaging(short[] source, int from, ByteBuffer staging, int count) {
        inParts(count, (start, length) -> shorts(staging).position(start).put(source, from + start, length));
    }

    /** Copies the first {@code count} shorts of {@code staging} into {@code target[from, from + count)}. */
    public static void fromStaging(ByteBuffer staging, short[] target, int from, int count) {
        inParts(count, (start, length) -> shorts(staging).position(start).get(target, from + start, length));
    }

    /** One part of a copy: elements {@code [start, start + length)} of the whole. */
    private interface Part {
        void copy(int start, int length);
    }

    private static void inParts(int count, Part part) {
        int parts = count < 2 * PART_ELEMENTS ? 1 : (count + PART_ELEMENTS - 1) / PART_ELEMENTS;
        if (parts == 1) {
            part.copy(0, count);
            return;
        }
        CpuWorkers.forEach(parts, index -> {
            int start = index * PART_ELEMENTS;
            part.copy(start, Math.min(PART_ELEMENTS, count - start));
        });
    }

    private static FloatBuffer floats(ByteBuffer staging) {
        return staging.duplicate().order(ByteOrder.nativeOrder()).asFloatBuffer();
    }

    private static ShortBuffer shorts(ByteBuffer staging) {
        return staging.duplicate().order(ByteOrder.nativeOrder()).asShortBuffer();
    }
}
