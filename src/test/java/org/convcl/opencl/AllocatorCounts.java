package org.convcl.opencl;

/** The caching allocator's count of created device buffers, for tests outside this package. */
public final class AllocatorCounts {
    private AllocatorCounts() {
    }

    /** Device buffers {@code backend} has created for its tensors and calls so far (reuses not counted). */
    public static long buffersCreated(OpenClBackend backend) {
        return backend.buffersCreated();
    }
}
