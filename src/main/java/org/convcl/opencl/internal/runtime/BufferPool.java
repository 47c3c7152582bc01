package org.convcl.opencl.internal.runtime;

import java.util.ArrayDeque;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.convcl.opencl.device.OpenClException;
import org.jocl.CL;

/**
 * A backend's caching device allocator (the idea of PyTorch's CUDA caching allocator): device tensors and the
 * temporaries of calls take buffers from here and give them back when closed, so that steady-state work
 * allocates no {@code cl_mem} at all.
 *
 * <ul>
 *   <li>Sizes are rounded up to a size class (512 bytes under 1 MiB, then whole MiB), and a request takes the
 *       smallest free buffer of its class or of a class at most a quarter larger.</li>
 *   <li>A buffer given back is reusable at once: the backend has one in-order queue, so every command that
 *       used the buffer before runs before any command that uses it next, whoever enqueues it.</li>
 *   <li>Bounded: free buffers above {@code capacityBytes} are released rather than kept; {@link #trim()}
 *       releases every free buffer; an allocation the device refuses trims and retries once before failing.</li>
 * </ul>
 * Thread-safe; a buffer is owned by one caller between {@link #acquire} and {@link #release}.
 */
public final class BufferPool {
    public static final long SMALL_GRANULE = 512;
    public static final long LARGE_GRANULE = 1L << 20;

    private final OpenClContext context;
    private final long capacityBytes;
    private final TreeMap<Long, ArrayDeque<ClBuffer>> free = new TreeMap<>();
    private long pooledBytes;
    private long created;
    private long createdBytes;
    private long reused;
    private long inUse;
    private long inUseBytes;
    private long peakInUseBytes;

    public BufferPool(OpenClContext context, long capacityBytes) {
        this.context = context;
        this.capacityBytes = capacityBytes;
    }

    /** The size class of a request: what a new buffer for it allocates. */
    public static long sizeClass(long bytes) {
        long granule = bytes < LARGE_GRANULE ? SMALL_GRANULE : LARGE_GRANULE;
        return Math.max(granule, (bytes + granule - 1) / granule * granule);
    }

    /** A buffer of at least {@code bytes}, reused when one is free, else newly allocated. */
    public ClBuffer acquire(long bytes, Supplier<String> purpose) {
        long wanted = sizeClass(bytes);
        synchronized (this) {
            for (Map.Entry<Long, ArrayDeque<ClBuffer>> entry = free.ceilingEntry(wanted);
                    entry != null && entry.getKey() <= wanted + wanted / 4; entry = free.higherEntry(entry.getKey())) {
                ArrayDeque<ClBuffer> candidates = entry.getValue();
                while (!candidates.isEmpty()) {
                    ClBuffer buffer = candidates.pop();
                    pooledBytes -= buffer.bytes();
                    if (!buffer.isClosed()) {
                        if (candidates.isEmpty()) {
                            free.remove(entry.getKey());
                        }
                        reused++;
                        handOut(buffer);
                        return buffer;
                    }
                }
                free.remove(entry.getKey());
            }
        }
        return allocate(wanted, purpose);
    }

    /** A new buffer; when the device refuses it, the free buffers are released and the allocation tried again. */
    private ClBuffer allocate(long bytes, Supplier<String> purpose) {
        ClBuffer buffer;
        try {
            buffer = context.allocate(bytes, purpose.get());
        } catch (OpenClException e) {
            if (!outOfMemory(e) || trim() == 0) {
                throw e;
            }
            buffer = context.allocate(bytes, purpose.get());
        }
        synchronized (this) {
            created++;
            createdBytes += buffer.bytes();
            handOut(buffer);
        }
        return buffer;
    }

    /** Counts {@code buffer} as handed out; under the lock. */
    private void handOut(ClBuffer buffer) {
        inUse++;
        inUseBytes += buffer.bytes();
        peakInUseBytes = Math.max(peakInUseBytes, inUseBytes);
    }

    private static boolean outOfMemory(OpenClException e) {
        int status = e.status();
        return status == CL.CL_MEM_OBJECT_ALLOCATION_FAILURE || status == CL.CL_OUT_OF_RESOURCES
                || status == CL.CL_OUT_OF_HOST_MEMORY;
    }

    /** Gives a buffer back: kept for reuse while the budget allows, released otherwise. */
    public void release(ClBuffer buffer) {
        if (buffer == null) {
            return;
        }
        synchronized (this) {
            inUse--;
            inUseBytes -= buffer.bytes();
            if (buffer.isClosed()) {
                return;
            }
            if (pooledBytes + buffer.bytes() <= capacityBytes) {
                free.computeIfAbsent(buffer.bytes(), size -> new ArrayDeque<>()).push(buffer);
                pooledBytes += buffer.bytes();
                return;
            }
        }
        buffer.close();
    }

    /** Releases every free buffer (those in use stay); returns the bytes released. */
    public long trim() {
        ArrayDeque<ClBuffer> released = new ArrayDeque<>();
        long bytes;
        synchronized (this) {
            free.values().forEach(released::addAll);
            free.clear();
            bytes = pooledBytes;
            pooledBytes = 0;
        }
        released.forEach(ClBuffer::close);
        return bytes;
    }

    /** Buffers this pool has had the device create, since it was made. */
    public synchronized long created() {
        return created;
    }

    /**
     * Bytes of the buffers this pool has had the device create, since it was made: while nothing is released
     * (the budget not exceeded, no {@link #trim()}), the device memory the backend's tensors and calls have held at
     * their peak, in size classes.
     */
    public synchronized long createdBytes() {
        return createdBytes;
    }

    /**
     * The most bytes of buffers handed out at once, since the pool was made: what its users held at their peak, in
     * size classes; {@link #createdBytes()} less this is what the pool kept free meanwhile.
     */
    public synchronized long peakInUseBytes() {
        return peakInUseBytes;
    }

    /** Requests served from a free buffer, since the pool was made. */
    synchronized long reused() {
        return reused;
    }

    /** Buffers handed out and not given back yet (open device tensors, layers' copies, calls in flight). */
    public synchronized long inUse() {
        return inUse;
    }

    /** Bytes held in free buffers now. */
    synchronized long pooledBytes() {
        return pooledBytes;
    }
}
