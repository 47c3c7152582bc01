package org.convcl.opencl.internal.runtime;

import java.nio.ByteBuffer;
import java.util.Arrays;
import org.convcl.opencl.device.OpenClException;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_command_queue;
import org.jocl.cl_device_id;
import org.jocl.cl_event;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;

/**
 * One kernel object. Setting arguments and enqueueing must not interleave between threads (arguments are
 * state of the kernel object), so {@link #launch} does both under the kernel's own lock; OpenCL captures the
 * arguments at enqueue time, so the lock is held only for the enqueue, not the execution, and launches of
 * different kernels from different threads proceed in parallel.
 *
 * <p>On PoCL the lock is one for the whole process instead: PoCL (3.1) compiles a kernel's work-group function
 * inside {@code clEnqueueNDRangeKernel} the first time it sees a launch shape, and two threads doing that at
 * once for different kernels crashed the JVM (a segmentation fault in about one test run in three with a cold
 * compiler cache). Other drivers compile in {@code clBuildProgram} and enqueue from many threads safely.
 */
public final class ClKernel extends NativeObject {
    /** The process-wide enqueue lock of drivers that need one (PoCL). */
    private static final Object PROCESS_ENQUEUE_LOCK = new Object();

    /**
     * Test seam, 0 when unused: emulates a driver whose compiled kernels run at most this many work-items per
     * group whatever the device allows (rusticl on llvmpipe: 32 of 1024), which PoCL, the test driver, never does.
     * {@link #maxWorkGroupSize} reports it and {@link #launch} refuses larger groups as such a driver does
     * ({@code CL_INVALID_WORK_GROUP_SIZE}). Set only by tests, around a backend of their own.
     */
    static volatile long emulatedWorkGroupLimit;

    private final cl_kernel kernel;
    private final String name;
    private final Object enqueueLock;

    private ClKernel(cl_kernel kernel, String name, boolean processWideLock) {
        super(NativeResources.Kind.KERNEL);
        this.kernel = kernel;
        this.name = name;
        this.enqueueLock = processWideLock ? PROCESS_ENQUEUE_LOCK : new Object();
    }

    /** A kernel object; {@code processWideLock} for drivers that must not enqueue from two threads at once. */
    static ClKernel create(ClProgram program, String name, boolean processWideLock) {
        cl_kernel kernel = Cl.call("clCreateKernel(" + name + ")", () -> CL.clCreateKernel(program.handle(), name, null));
        return new ClKernel(kernel, name, processWideLock);
    }

    /** {@code CL_KERNEL_WORK_GROUP_SIZE}: the largest work-group this kernel can run with on {@code device}. */
    public long maxWorkGroupSize(cl_device_id device) {
        ensureOpen();
        return Cl.call("clGetKernelWorkGroupInfo(" + name + ")", () -> {
            ByteBuffer bytes = Cl.direct(Sizeof.size_t);
            CL.clGetKernelWorkGroupInfo(kernel, device, CL.CL_KERNEL_WORK_GROUP_SIZE, Sizeof.size_t, Pointer.to(bytes),
                    null);
            long limit = Cl.sizeT(bytes);
            long emulated = emulatedWorkGroupLimit;
            return emulated > 0 ? Math.min(limit, emulated) : limit;
        });
    }

    /**
     * {@code CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE}: the work-group granularity this kernel runs best at on
     * {@code device} (the SIMD width, or 1 where the driver has no preference).
     */
    public long preferredWorkGroupMultiple(cl_device_id device) {
        ensureOpen();
        return Cl.call("clGetKernelWorkGroupInfo(" + name + ")", () -> {
            ByteBuffer bytes = Cl.direct(Sizeof.size_t);
            CL.clGetKernelWorkGroupInfo(kernel, device, CL.CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE,
                    Sizeof.size_t, Pointer.to(bytes), null);
            return Cl.sizeT(bytes);
        });
    }

    /**
     * Sets every argument and enqueues one launch. Arguments are {@link ClBuffer}s or {@link Integer}s
     * (passed as {@code int}). {@code local} may be null to let the driver choose.
     */
    public void launch(cl_command_queue queue, long[] global, long[] local, Object... arguments) {
        synchronized (enqueueLock) {
            launchLocked(queue, global, local, arguments);
        }
    }

    private void launchLocked(cl_command_queue queue, long[] global, long[] local, Object... arguments) {
        ensureOpen();
        long emulated = emulatedWorkGroupLimit;
        if (emulated > 0 && local != null && Arrays.stream(local).reduce(1, Math::multiplyExact) > emulated) {
            throw new OpenClException("clEnqueueNDRangeKernel(" + name + ", local " + Arrays.toString(local)
                    + ", emulated kernel limit " + emulated + ")", CL.CL_INVALID_WORK_GROUP_SIZE,
                    "CL_INVALID_WORK_GROUP_SIZE", null);
        }
        int index = 0;
        try {
            for (; index < arguments.length; index++) {
                Object argument = arguments[index];
                if (argument instanceof ClBuffer buffer) {
                    CL.clSetKernelArg(kernel, index, Sizeof.cl_mem, Pointer.to(buffer.handle()));
                } else if (argument instanceof Integer value) {
                    CL.clSetKernelArg(kernel, index, Sizeof.cl_int, Pointer.to(new int[] {value}));
                } else {
                    throw new IllegalArgumentException("kernel argument " + index + " of " + name
                            + ": unsupported type " + (argument == null ? "null" : argument.getClass().getName()));
                }
            }
        } catch (CLException e) {
            throw Cl.error("clSetKernelArg(" + name + ", argument " + index + ")", e);
        }
        try {
            cl_event event = KernelEvents.eventForLaunch();
            CL.clEnqueueNDRangeKernel(queue, kernel, global.length, null, global, local, 0, null, event);
            KernelEvents.launched(event);
        } catch (CLException e) {
            throw Cl.error("clEnqueueNDRangeKernel(" + name + ", global " + Arrays.toString(global) + ", local "
                    + Arrays.toString(local) + ")", e);
        }
    }

    @Override
    void release() {
        Cl.run("clReleaseKernel", () -> CL.clReleaseKernel(kernel));
    }

    @Override
    String describe() {
        return "kernel " + name;
    }
}
