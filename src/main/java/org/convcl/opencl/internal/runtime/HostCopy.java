package org.convcl.opencl.internal.runtime;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.convcl.internal.CpuWorkers;

/**
 * Copies between Java float arrays and pinned staging memory: the one step of a host-array transfer that the
 * CPU does. One core copies several GB/s, less than a PCIe 5 link carries, so large copies are split across the
 * Java path's threads ({@link CpuWorkers}) (memory bandwidth then sets the pace); small ones stay on the caller's thread.
 */
public final class HostCopy {
    /** Floats per part of a parallel copy: big enough that a part costs far more than handing it to a thread. */
    private static final int PART_FLOATS = 256 << 10;

    private HostCopy() {
    }

    /** Copies {@code source[from, from + count)} to the start of {@code staging}. */
    public static void toStaging(float[] source, int from, ByteBuffer staging, int count) {
        int parts = parts(count);
        if (parts == 1) {
            floats(staging).put(source, from, count);
            return;
        }
        CpuWorkers.forEach(parts, part -> {
            int start = part * PART_FLOATS;
            int length = Math.min(PART_FLOATS, count - start);
            floats(staging).position(start).put(source, from + start, length);
        });
    }

    /** Copies the first {@code count} floats of {@code staging} into {@code target[from, from + count)}. */
    public static void fromStaging(ByteBuffer staging, float[] target, int from, int count) {
        int parts = parts(count);
        if (parts == 1) {
            floats(staging).get(target, from, count);
            return;
        }
        CpuWorkers.forEach(parts, part -> {
            int start = part * PART_FLOATS;
            int length = Math.min(PART_FLOATS, count - start);
            floats(staging).position(start).get(target, from + start, length);
        });
    }

    private static int parts(int count) {
        return count < 2 * PART_FLOATS ? 1 : (count + PART_FLOATS - 1) / PART_FLOATS;
    }

    private static java.nio.FloatBuffer floats(ByteBuffer staging) {
        return staging.duplicate().order(ByteOrder.nativeOrder()).asFloatBuffer();
    }
}
