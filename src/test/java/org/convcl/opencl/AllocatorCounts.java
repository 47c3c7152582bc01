package org.convcl.opencl;

/** The caching allocator's counts of created device buffers, for tests and measurements outside this package. */
public final class AllocatorCounts {
    private AllocatorCounts() {
    }

    /** Device buffers {@code backend} has created for its tensors and calls so far (reuses not counted). */
    public static long buffersCreated(OpenClBackend backend) {
        return backend.buffersCreated();
    }

    /**
     * Bytes of those buffers (in the allocator's size classes): the device memory {@code backend}'s tensors and
     * calls have held at their peak, as long as the allocator released none (its budget not exceeded, no trim).
     */
    public static long bufferBytesCreated(OpenClBackend backend) {
        return backend.bufferBytesCreated();
    }
}
