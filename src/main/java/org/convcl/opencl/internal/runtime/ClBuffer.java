package org.convcl.opencl.internal.runtime;

import org.jocl.CL;
import org.jocl.cl_mem;

/**
 * One device memory object. OpenCL refuses empty buffers, so a zero-byte request allocates a small
 * placeholder that no kernel reads; {@link #bytes()} is still the size that was asked for.
 */
public final class ClBuffer extends NativeObject {
    /** What an empty request allocates instead of nothing. */
    static final long PLACEHOLDER_BYTES = 4;

    private final cl_mem memory;
    private final long bytes;
    private final String deviceName;

    private ClBuffer(cl_mem memory, long bytes, String deviceName) {
        super(NativeResources.Kind.BUFFER);
        this.memory = memory;
        this.bytes = bytes;
        this.deviceName = deviceName;
    }

    /** Allocates {@code bytes} of read-write device memory in {@code context}. */
    static ClBuffer allocate(OpenClContext context, long bytes) {
        long allocated = Math.max(bytes, PLACEHOLDER_BYTES);
        cl_mem memory = Cl.call("clCreateBuffer (" + bytes + " bytes on " + context.device().name() + ")",
                () -> CL.clCreateBuffer(context.handle(), CL.CL_MEM_READ_WRITE, allocated, null, null));
        return new ClBuffer(memory, bytes, context.device().name());
    }

    cl_mem handle() {
        ensureOpen();
        return memory;
    }

    /** The size asked for (0 for a placeholder). */
    public long bytes() {
        return bytes;
    }

    @Override
    void release() {
        Cl.run("clReleaseMemObject", () -> CL.clReleaseMemObject(memory));
    }

    @Override
    String describe() {
        return "device buffer of " + bytes + " bytes on " + deviceName;
    }
}
