package org.convcl.opencl.internal.runtime;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.jocl.CL;
import org.jocl.cl_mem;

/**
 * Page-locked ("pinned") host memory for staging transfers: a buffer created with {@code CL_MEM_ALLOC_HOST_PTR}
 * and mapped once for its whole life. Copies between pinned memory and the device run at the link's full speed
 * and asynchronously, where copies from ordinary (pageable) memory are staged by the driver and block; this is
 * how NVIDIA's OpenCL guide, and PyTorch's {@code pin_memory}, get the link's bandwidth. The mapped bytes are
 * used as the host side of {@link OpenClContext#writeAsync}/{@link OpenClContext#readAsync} into device buffers.
 *
 * <p>Owned by its context; not thread-safe (one transfer uses it at a time, see {@link StagingPool}).
 */
public final class PinnedBuffer extends NativeObject {
    private final OpenClContext context;
    private final cl_mem memory;
    private final ByteBuffer host;
    private final long bytes;

    private PinnedBuffer(OpenClContext context, cl_mem memory, ByteBuffer host, long bytes) {
        super(NativeResources.Kind.BUFFER);
        this.context = context;
        this.memory = memory;
        this.host = host;
        this.bytes = bytes;
    }

    static PinnedBuffer allocate(OpenClContext context, long bytes) {
        if (bytes <= 0 || bytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("pinned staging: " + bytes + " bytes; must be 1.." + Integer.MAX_VALUE);
        }
        cl_mem memory = Cl.call("clCreateBuffer (" + bytes + " bytes of pinned host memory on "
                + context.device().name() + ")", () -> CL.clCreateBuffer(context.handle(),
                CL.CL_MEM_READ_WRITE | CL.CL_MEM_ALLOC_HOST_PTR, bytes, null, null));
        ByteBuffer mapped;
        try {
            mapped = Cl.call("clEnqueueMapBuffer (" + bytes + " bytes of pinned host memory)",
                    () -> CL.clEnqueueMapBuffer(context.mappingQueue(), memory, CL.CL_TRUE,
                            CL.CL_MAP_READ | CL.CL_MAP_WRITE, 0, bytes, 0, null, null, null));
        } catch (RuntimeException e) {
            CL.clReleaseMemObject(memory);
            throw e;
        }
        return new PinnedBuffer(context, memory, mapped.order(ByteOrder.nativeOrder()), bytes);
    }

    /** The mapped host bytes, in native order (a view with its own position). */
    public ByteBuffer host() {
        ensureOpen();
        return host.duplicate().order(ByteOrder.nativeOrder());
    }

    long bytes() {
        return bytes;
    }

    /** Floats this buffer holds. */
    int floats() {
        return (int) (bytes / Float.BYTES);
    }

    @Override
    void release() {
        // Unmapped on the mapping queue and waited for, so the mapping is gone before the memory is released.
        Cl.run("clEnqueueUnmapMemObject", () -> CL.clEnqueueUnmapMemObject(context.mappingQueue(), memory, host,
                0, null, null));
        Cl.run("clFinish", () -> CL.clFinish(context.mappingQueue()));
        Cl.run("clReleaseMemObject", () -> CL.clReleaseMemObject(memory));
    }

    @Override
    String describe() {
        return "pinned staging buffer of " + bytes + " bytes on " + context.device().name();
    }
}
