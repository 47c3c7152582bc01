package org.convcl.opencl;

import java.util.Locale;
import org.convcl.ConvGeometry;

/**
 * How many batch elements a host-array call sends to the device at once, so that every buffer fits the
 * device's largest allocation and all of them fit its memory together. A batch that does not fit runs in
 * chunks along the batch, with the same result; what cannot be split (the kernel alone, or one element) is
 * refused naming the sizes.
 *
 * <p>The limits are the device's, or smaller ones from the system properties
 * {@code convcl.opencl.maxAllocationBytes} and {@code convcl.opencl.memoryBytes} (to share a device, or to
 * test the chunking on a device with plenty of memory). Immutable.
 */
final class BatchChunks {
    /** Share of global memory a call may use: drivers and other buffers need the rest. */
    private static final double MEMORY_SHARE = 0.75;

    private final long maxAllocation;
    private final long memoryBudget;

    private BatchChunks(long maxAllocation, long memoryBudget) {
        this.maxAllocation = maxAllocation;
        this.memoryBudget = memoryBudget;
    }

    static BatchChunks forDevice(OpenClDevice device) {
        long maxAllocation = limit("convcl.opencl.maxAllocationBytes", device.maxAllocationBytes());
        long memory = limit("convcl.opencl.memoryBytes", device.globalMemoryBytes());
        return new BatchChunks(maxAllocation, (long) (memory * MEMORY_SHARE));
    }

    static BatchChunks of(long maxAllocation, long memoryBudget) {
        return new BatchChunks(maxAllocation, memoryBudget);
    }

    /** Batch elements per chunk for {@code g} (at least 1; the whole batch when it fits). */
    int elementsPerChunk(ConvGeometry g, boolean hasBias) {
        long kernelBytes = 4L * g.kernelTaps() * g.inChannelsPerGroup() * g.outChannels();
        long biasBytes = hasBias ? 4L * g.outChannels() : 0;
        long inputBytes = 4L * g.inputSpatialSize() * g.inChannels();
        long outputBytes = 4L * g.outputSpatialSize() * g.outChannels();
        if (kernelBytes > maxAllocation || kernelBytes + biasBytes > memoryBudget) {
            throw new IllegalArgumentException("kernel: " + size(kernelBytes) + " does not fit the device ("
                    + size(maxAllocation) + " per buffer, " + size(memoryBudget) + " for a call) and cannot be "
                    + "split");
        }
        long perElement = inputBytes + outputBytes;
        if (inputBytes > maxAllocation || outputBytes > maxAllocation
                || kernelBytes + biasBytes + perElement > memoryBudget) {
            throw new IllegalArgumentException("input: one batch element needs " + size(inputBytes) + " of input and "
                    + size(outputBytes) + " of output besides a " + size(kernelBytes) + " kernel; the device allows "
                    + size(maxAllocation) + " per buffer and " + size(memoryBudget) + " for a call, and a batch "
                    + "element cannot be split");
        }
        long fit = perElement == 0 ? g.batch() : (memoryBudget - kernelBytes - biasBytes) / perElement;
        if (inputBytes > 0) {
            fit = Math.min(fit, maxAllocation / inputBytes);
        }
        if (outputBytes > 0) {
            fit = Math.min(fit, maxAllocation / outputBytes);
        }
        return (int) Math.max(1, Math.min(g.batch(), fit));
    }

    private static long limit(String property, long deviceValue) {
        String text = System.getProperty(property);
        if (text == null || text.isBlank()) {
            return deviceValue;
        }
        long value;
        try {
            value = Long.parseLong(text.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(property + ": got '" + text + "'; expected a number of bytes");
        }
        if (value < 1) {
            throw new IllegalArgumentException(property + ": got " + value + "; must be >= 1");
        }
        return Math.min(value, deviceValue);
    }

    private static String size(long bytes) {
        if (bytes < 1 << 20) {
            return bytes + " bytes";
        }
        return String.format(Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
    }
}
