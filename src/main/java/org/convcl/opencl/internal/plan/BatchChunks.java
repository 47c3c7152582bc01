package org.convcl.opencl.internal.plan;

import java.util.Locale;
import org.convcl.ConvGeometry;
import org.convcl.internal.Setting;
import org.convcl.internal.Settings;
import org.convcl.opencl.device.OpenClDevice;

/**
 * How a host-array call splits its batch into chunks ({@link PipelinedForward}): every buffer must fit the
 * device's largest allocation and all of them its memory together, and chunks should be small enough that
 * several are in flight at once (one uploading, one computing, one downloading) yet large enough that the
 * commands' fixed costs vanish. A batch runs in chunks along the batch with the same result; what cannot be
 * split (the kernel alone, or one element) is refused naming the sizes.
 *
 * <p>The limits are the device's, or smaller ones from the system properties
 * {@code convcl.opencl.maxAllocationBytes} and {@code convcl.opencl.memoryBytes} (to share a device, or to
 * test the chunking on a device with plenty of memory); the chunk size aimed at is
 * {@code convcl.opencl.pipelineChunkBytes} (default {@value #DEFAULT_PIPELINE_CHUNK_BYTES} bytes of input or
 * output per chunk). Immutable.
 */
public final class BatchChunks {
    /** Share of global memory a call may use: drivers and other buffers need the rest. */
    private static final double MEMORY_SHARE = 0.75;

    /** Input or output bytes per chunk aimed at: a few MiB keep each copy near link speed and chunks many. */
    static final long DEFAULT_PIPELINE_CHUNK_BYTES = 4L << 20;
    /** Chunks in flight at once: one uploading, one computing, one downloading. */
    static final int PIPELINE_SLOTS = 3;

    private final long maxAllocation;
    private final long memoryBudget;
    private final long pipelineChunkBytes;

    private BatchChunks(long maxAllocation, long memoryBudget, long pipelineChunkBytes) {
        this.maxAllocation = maxAllocation;
        this.memoryBudget = memoryBudget;
        this.pipelineChunkBytes = pipelineChunkBytes;
    }

    public static BatchChunks forDevice(OpenClDevice device) {
        long maxAllocation = limit(Settings.OPENCL_MAX_ALLOCATION_BYTES, device.maxAllocationBytes());
        long memory = limit(Settings.OPENCL_MEMORY_BYTES, device.globalMemoryBytes());
        long chunkBytes = Settings.OPENCL_PIPELINE_CHUNK_BYTES.value().orElse(DEFAULT_PIPELINE_CHUNK_BYTES);
        return new BatchChunks(maxAllocation, (long) (memory * MEMORY_SHARE), chunkBytes);
    }

    public static BatchChunks of(long maxAllocation, long memoryBudget) {
        return new BatchChunks(maxAllocation, memoryBudget, DEFAULT_PIPELINE_CHUNK_BYTES);
    }

    public static BatchChunks of(long maxAllocation, long memoryBudget, long pipelineChunkBytes) {
        return new BatchChunks(maxAllocation, memoryBudget, pipelineChunkBytes);
    }

    /**
     * How a host-array call runs: {@code chunk} batch elements at a time, {@code slots} chunks in flight.
     *
     * @param chunk batch elements per chunk (at least 1)
     * @param slots chunks whose buffers exist at once (1 when the device holds only one)
     */
    public record Pipeline(int chunk, int slots) {
    }

    /**
     * The most bytes one buffer may take: the device's {@code CL_DEVICE_MAX_MEM_ALLOC_SIZE}, or less where
     * {@code convcl.opencl.maxAllocationBytes} says so.
     */
    public long maxAllocation() {
        return maxAllocation;
    }

    /**
     * Refuses a buffer of {@code bytes} for {@code what} (a tensor, a call's temporary) larger than
     * {@link #maxAllocation()}, naming both limits: the setting must bind every buffer of the backend (device
     * tensors, the host backward pass's), not only the host forward pass's chunks.
     */
    public void checkBuffer(long bytes, String what) {
        if (bytes > maxAllocation) {
            throw new IllegalArgumentException(what + ": needs a buffer of " + size(bytes) + " but the device allows "
                    + size(maxAllocation) + " per buffer (its CL_DEVICE_MAX_MEM_ALLOC_SIZE, lowered by "
                    + "convcl.opencl.maxAllocationBytes when set)");
        }
    }

    /** Input or output bytes per chunk aimed at; also the piece size of staged transfers. */
    public long pipelineChunkBytes() {
        return pipelineChunkBytes;
    }

    /** The chunking of {@code g}'s batch for a pipelined host-array call. */
    public Pipeline pipeline(ConvGeometry g, boolean hasBias) {
        long fit = elementsThatFit(g, hasBias);
        long perElement = Math.max(4L * g.inputSpatialSize() * g.inChannels(),
                4L * g.outputSpatialSize() * g.outChannels());
        int wanted = (int) Math.max(1, Math.min(g.batch(), pipelineChunkBytes / Math.max(1, perElement)));
        int chunk = (int) Math.min(wanted, fit);
        int chunks = (g.batch() + chunk - 1) / chunk;
        int slots = Math.min(PIPELINE_SLOTS, chunks);
        // Every slot holds a chunk on the device: when they do not all fit, the chunks get smaller (down to
        // one element) and, failing that, fewer slots are used.
        while (slots > 1 && (long) chunk * slots > fit) {
            if (chunk > 1) {
                chunk = (int) Math.max(1, fit / slots);
            } else {
                slots--;
            }
        }
        return new Pipeline(chunk, slots);
    }

    /** Batch elements per chunk for {@code g} (at least 1; the whole batch when it fits). */
    public int elementsPerChunk(ConvGeometry g, boolean hasBias) {
        return (int) Math.min(g.batch(), elementsThatFit(g, hasBias));
    }

    /** Batch elements whose buffers fit the device beside the kernel (at least 1, however large the batch). */
    private long elementsThatFit(ConvGeometry g, boolean hasBias) {
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
        long fit = perElement == 0 ? Integer.MAX_VALUE : (memoryBudget - kernelBytes - biasBytes) / perElement;
        if (inputBytes > 0) {
            fit = Math.min(fit, maxAllocation / inputBytes);
        }
        if (outputBytes > 0) {
            fit = Math.min(fit, maxAllocation / outputBytes);
        }
        return Math.max(1, fit);
    }

    /** The setting lowers the device's limit, never raises it (a device cannot give more than it has). */
    private static long limit(Setting<Long> setting, long deviceValue) {
        return setting.value().map(value -> Math.min(value, deviceValue)).orElse(deviceValue);
    }

    private static String size(long bytes) {
        if (bytes < 1 << 20) {
            return bytes + " bytes";
        }
        return String.format(Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
    }
}
