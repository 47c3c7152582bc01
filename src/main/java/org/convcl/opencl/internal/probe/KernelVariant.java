package org.convcl.opencl.internal.probe;

import java.util.List;
import org.convcl.opencl.internal.plan.ForwardVariant;
import org.convcl.opencl.internal.plan.ForwardVariants;
import org.convcl.opencl.internal.plan.KernelConfig;

/**
 * The kernel code paths a plan can run, as {@code convcl devices --check} reports them: one per
 * {@link ForwardVariant}, or several ({@link ForwardVariant#codePath}: the GEMM's mma forms). The general, GEMM (FMA) and
 * depthwise kernels are portable OpenCL C 1.2, linted as such, run on two OpenCL implementations in CI and used
 * by default on every device: they serve calls unprobed. The warp-level mma path is not portable in the same way:
 * its tensor-core form is inline PTX that only NVIDIA's compiler builds (no CI has it), and its emulated form is
 * reached only through a tuning database; both are proven on the device before they serve a call
 * ({@link ProvenVariants}).
 */
public enum KernelVariant {
    GENERAL("general", "general"),
    GEMM("gemm", "gemm"),
    DEPTHWISE("depthwise", "depthwise"),
    MMA_EMULATED("mma (emulated)", "gemm"),
    MMA_TENSOR_CORES("mma (tensor cores)", "gemm");

    private final String label;
    /** The {@link ForwardVariant#name} of the kernel this code path belongs to. */
    private final String forwardVariant;

    KernelVariant(String label, String forwardVariant) {
        this.label = label;
        this.forwardVariant = forwardVariant;
    }

    /** The variant a plan of {@code config} runs on a device with ({@code tensorCores}) or without TF32 tensor cores. */
    public static KernelVariant of(KernelConfig config, boolean tensorCores) {
        return valueOf(ForwardVariants.codePath(config, tensorCores));
    }

    /** The files of the program this code path runs, in compilation order. */
    public List<String> sources() {
        return ForwardVariants.named(forwardVariant).sources();
    }

    /** Whether a call may use this variant only after its probe passed on the device. */
    public boolean provenBeforeUse() {
        return this == MMA_EMULATED || this == MMA_TENSOR_CORES;
    }

    /** The variant's name in messages: {@code mma (tensor cores)}. */
    public String label() {
        return label;
    }

    @Override
    public String toString() {
        return label;
    }
}
