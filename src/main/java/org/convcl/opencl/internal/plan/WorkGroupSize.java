package org.convcl.opencl.internal.plan;

import org.convcl.opencl.internal.runtime.ClKernel;
import org.convcl.opencl.internal.runtime.OpenClContext;

/**
 * Work-group sizes of the portable convolution ({@code conv_general}), whose group size is free (one work-item per
 * output, no local-memory tile) and chosen for speed by a config or the tuner: what bounds it is the compiled
 * kernel's own {@code CL_KERNEL_WORK_GROUP_SIZE}, which may be lower than the device's maximum (rusticl on
 * llvmpipe compiles the general kernel for 32 items on a device that allows 1024), so it is sized from the kernel
 * object, never from the device alone, and rounded to the kernel's preferred multiple. (Edge padding and the
 * element-wise kernels follow the same rule by themselves, with no preferred multiple: at most 64 items, and
 * at most what their compiled kernels allow; see {@code EdgePaddingPlan} and {@code ElementKernels}.) Stateless.
 */
public final class WorkGroupSize {
    private WorkGroupSize() {
    }

    /**
     * {@code wanted} where the kernel can run it, else the largest multiple of the kernel's preferred
     * multiple that it can run (the whole limit when the multiple is larger than the limit or unknown).
     *
     * @param wanted            the size chosen for speed, at least 1
     * @param kernelLimit       the compiled kernel's {@code CL_KERNEL_WORK_GROUP_SIZE}, at least 1
     * @param preferredMultiple the kernel's {@code CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE}; 0 or less
     *                          counts as no preference
     */
    public static int fit(int wanted, long kernelLimit, long preferredMultiple) {
        if (wanted < 1) {
            throw new IllegalArgumentException("wanted: got " + wanted + "; a work-group has at least 1 item");
        }
        if (kernelLimit < 1) {
            throw new IllegalArgumentException("kernelLimit: got " + kernelLimit
                    + "; a conformant driver runs every kernel with at least 1 work-item per group");
        }
        if (wanted <= kernelLimit) {
            return wanted;
        }
        if (preferredMultiple >= 1 && preferredMultiple <= kernelLimit) {
            return (int) (kernelLimit / preferredMultiple * preferredMultiple);
        }
        return (int) kernelLimit;
    }

    /** {@link #fit} for {@code kernel} as compiled for the context's device. */
    public static int fit(int wanted, ClKernel kernel, OpenClContext context) {
        return fit(wanted, kernel.maxWorkGroupSize(context.device().handle()),
                kernel.preferredWorkGroupMultiple(context.device().handle()));
    }
}
