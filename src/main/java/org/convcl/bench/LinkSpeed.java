package org.convcl.bench;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.convcl.Tensor;
import org.convcl.opencl.DeviceTensor;
import org.convcl.opencl.OpenClBackend;

/**
 * The host-device link as the host-array path uses it: Java heap arrays copied to a device tensor and back (through
 * pinned staging memory in pipelined pieces, or directly on a CPU device),
 * through the same calls, timed as the median of several copies of one large block.
 *
 * @param h2dGbps host to device, GB/s (10^9 bytes per second)
 * @param d2hGbps device to host, GB/s
 */
public record LinkSpeed(double h2dGbps, double d2hGbps) {
    /** Bytes per timed copy: large enough that per-call costs vanish, small enough for any device. */
    static final int BLOCK_FLOATS = 16 << 20;
    private static final int COPIES = 7;

    /** Measures {@code backend}'s link with a block of {@link #BLOCK_FLOATS} floats (or less, if the device is small). */
    public static LinkSpeed measure(OpenClBackend backend) {
        long limit = Math.min(backend.device().maxAllocationBytes(), backend.device().globalMemoryBytes() / 4) / 4;
        int floats = (int) Math.max(1, Math.min(BLOCK_FLOATS, limit));
        float[] values = new float[floats];
        for (int i = 0; i < floats; i++) {
            values[i] = i;
        }
        Tensor block = Tensor.of(values, floats);
        double bytes = 4.0 * floats;
        try (DeviceTensor device = backend.allocate(floats)) {
            device.write(block); // first touch of the buffer, not timed
            backend.finish();
            double[] up = new double[COPIES];
            double[] down = new double[COPIES];
            float[] check = null;
            for (int i = 0; i < COPIES; i++) {
                long start = System.nanoTime();
                device.write(block);
                backend.finish();
                up[i] = System.nanoTime() - start;
                start = System.nanoTime();
                check = device.download().data();
                down[i] = System.nanoTime() - start;
            }
            if (!Arrays.equals(values, check)) {
                throw new IllegalStateException("link speed: the block read back differs from the one written");
            }
            return new LinkSpeed(bytes / median(up), bytes / median(down));
        }
    }

    private static double median(double[] nanos) {
        double[] sorted = nanos.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    Map<String, Object> toJson() {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("h2d_gbps", h2dGbps);
        json.put("d2h_gbps", d2hGbps);
        json.put("bytes", 4L * BLOCK_FLOATS);
        json.put("host_memory", "Java heap arrays, as the host-array path moves them (through pinned staging unless the device is a CPU)");
        return json;
    }
}
