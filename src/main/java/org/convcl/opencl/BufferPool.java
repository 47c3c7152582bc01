package org.convcl.opencl;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * Device buffers kept between host-array calls, so that repeated calls of one shape allocate nothing:
 * free buffers are kept by exact size, up to a byte budget beyond which returned buffers are released.
 * Thread-safe; a buffer is owned by one caller between {@link #acquire} and {@link #release}.
 */
final class BufferPool {
    private final OpenClContext context;
    private final long capacityBytes;
    private final Map<Long, ArrayDeque<ClBuffer>> free = new HashMap<>();
    private long pooledBytes;

    BufferPool(OpenClContext context, long capacityBytes) {
        this.context = context;
        this.capacityBytes = capacityBytes;
    }

    /** A buffer of exactly {@code bytes}, pooled when one is free, else newly allocated. */
    ClBuffer acquire(long bytes, String purpose) {
        synchronized (this) {
            ArrayDeque<ClBuffer> candidates = free.get(bytes);
            while (candidates != null && !candidates.isEmpty()) {
                ClBuffer buffer = candidates.pop();
                pooledBytes -= footprint(buffer);
                if (!buffer.isClosed()) {
                    return buffer;
                }
            }
        }
        return context.allocate(bytes, purpose);
    }

    /** Gives a buffer back: kept for reuse while the budget allows, released otherwise. */
    void release(ClBuffer buffer) {
        if (buffer == null || buffer.isClosed()) {
            return;
        }
        synchronized (this) {
            if (pooledBytes + footprint(buffer) <= capacityBytes) {
                free.computeIfAbsent(buffer.bytes(), size -> new ArrayDeque<>()).push(buffer);
                pooledBytes += footprint(buffer);
                return;
            }
        }
        buffer.close();
    }

    /** Releases every pooled buffer. */
    void clear() {
        ArrayDeque<ClBuffer> released = new ArrayDeque<>();
        synchronized (this) {
            free.values().forEach(released::addAll);
            free.clear();
            pooledBytes = 0;
        }
        released.forEach(ClBuffer::close);
    }

    private static long footprint(ClBuffer buffer) {
        return Math.max(buffer.bytes(), ClBuffer.PLACEHOLDER_BYTES);
    }
}
