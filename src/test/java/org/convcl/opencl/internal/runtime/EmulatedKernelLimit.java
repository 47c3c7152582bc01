package org.convcl.opencl.internal.runtime;

/**
 * Makes every kernel compiled while it is open behave as on a driver that compiles kernels for fewer
 * work-items per group than the device allows (rusticl on llvmpipe: 32 of 1024), which PoCL never does:
 * {@code CL_KERNEL_WORK_GROUP_SIZE} reports the limit and a larger launch fails. Process-wide; tests use it
 * around a backend of their own and close it after.
 */
public final class EmulatedKernelLimit implements AutoCloseable {
    private EmulatedKernelLimit() {
    }

    /** Kernels run at most {@code items} work-items per group until {@link #close()}. */
    public static EmulatedKernelLimit of(long items) {
        if (items < 1) {
            throw new IllegalArgumentException("items: got " + items + "; a kernel runs at least 1 item per group");
        }
        ClKernel.emulatedWorkGroupLimit = items;
        return new EmulatedKernelLimit();
    }

    @Override
    public void close() {
        ClKernel.emulatedWorkGroupLimit = 0;
    }
}
