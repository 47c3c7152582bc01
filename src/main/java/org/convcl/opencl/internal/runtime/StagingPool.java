package org.convcl.opencl.internal.runtime;

import java.util.ArrayDeque;
import java.util.Map;
import java.util.TreeMap;

/**
 * A backend's pinned staging buffers ({@link PinnedBuffer}), reused between transfers: pinning memory is slow
 * (the driver locks pages), so each size is pinned once and handed from transfer to transfer. Sizes are rounded
 * to {@link BufferPool#sizeClass} classes; a request takes the smallest free buffer at least as large and at
 * most twice as large. Bounded: free buffers beyond {@code capacityBytes} are released (pinned memory is taken
 * from the host's RAM, and the operating system cannot page it out). Thread-safe.
 */
public final class StagingPool {
    private final OpenClContext context;
    private final long capacityBytes;
    private final TreeMap<Long, ArrayDeque<PinnedBuffer>> free = new TreeMap<>();
    private long freeBytes;

    public StagingPool(OpenClContext context, long capacityBytes) {
        this.context = context;
        this.capacityBytes = capacityBytes;
    }

    /** A pinned buffer of at least {@code bytes}; give it back with {@link #release}. */
    public PinnedBuffer acquire(long bytes) {
        long wanted = BufferPool.sizeClass(bytes);
        synchronized (this) {
            for (Map.Entry<Long, ArrayDeque<PinnedBuffer>> entry = free.ceilingEntry(wanted);
                    entry != null && entry.getKey() <= 2 * wanted; entry = free.higherEntry(entry.getKey())) {
                PinnedBuffer buffer = entry.getValue().poll();
                if (entry.getValue().isEmpty()) {
                    free.remove(entry.getKey());
                }
                if (buffer != null) {
                    freeBytes -= buffer.bytes();
                    if (!buffer.isClosed()) {
                        return buffer;
                    }
                }
            }
        }
        return context.allocatePinned(wanted);
    }

    /** Gives {@code buffer} back once no transfer uses it any more; null is ignored. */
    public void release(PinnedBuffer buffer) {
        if (buffer == null || buffer.isClosed()) {
            return;
        }
        synchronized (this) {
            if (freeBytes + buffer.bytes() <= capacityBytes) {
                free.computeIfAbsent(buffer.bytes(), size -> new ArrayDeque<>()).push(buffer);
                freeBytes += buffer.bytes();
                return;
            }
        }
        buffer.close();
    }

    /** Releases every free pinned buffer. */
    public void trim() {
        ArrayDeque<PinnedBuffer> released = new ArrayDeque<>();
        synchronized (this) {
            free.values().forEach(released::addAll);
            free.clear();
            freeBytes = 0;
        }
        released.forEach(PinnedBuffer::close);
    }
}
