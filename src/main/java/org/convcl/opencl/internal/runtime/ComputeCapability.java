package org.convcl.opencl.internal.runtime;

import java.util.Optional;
import org.convcl.opencl.device.OpenClDevice;

/**
 * An NVIDIA device's compute capability, read through the {@code cl_nv_device_attribute_query} extension, and
 * what convcl makes of it: whether the device has TF32 tensor cores ({@code mma.sync ... .tf32}, compute
 * capability 8.0 and later: Ampere, Ada, Hopper, Blackwell), which also run the kernels' float16 and bfloat16
 * {@code mma.sync.aligned.m16n8k16} (both from 8.0 too). Other devices have none to report.
 *
 * @param major the major version (8 on an A100, 9 on an H100)
 * @param minor the minor version
 */
public record ComputeCapability(int major, int minor) {
    /** The extension through which NVIDIA's driver reports the compute capability. */
    static final String EXTENSION = "cl_nv_device_attribute_query";
    /** {@code CL_DEVICE_COMPUTE_CAPABILITY_MAJOR_NV}. */
    static final int MAJOR_NV = 0x4000;
    /** {@code CL_DEVICE_COMPUTE_CAPABILITY_MINOR_NV}. */
    static final int MINOR_NV = 0x4001;
    /** The first compute capability with TF32 tensor cores. */
    private static final int FIRST_TF32_MAJOR = 8;

    /** The device's compute capability, or empty for a device that does not report one (not NVIDIA's driver). */
    public static Optional<ComputeCapability> of(OpenClDevice device) {
        if (!device.hasExtension(EXTENSION)) {
            return Optional.empty();
        }
        return Optional.of(new ComputeCapability(Cl.deviceUint(device.handle(), MAJOR_NV),
                Cl.deviceUint(device.handle(), MINOR_NV)));
    }

    /** Whether {@code device} runs TF32 {@code mma.sync} on tensor cores (the kernels' inline PTX path). */
    public static boolean hasTf32TensorCores(OpenClDevice device) {
        return of(device).map(ComputeCapability::hasTf32TensorCores).orElse(false);
    }

    /** Whether this compute capability has TF32 tensor cores (8.0 and later). */
    public boolean hasTf32TensorCores() {
        return major >= FIRST_TF32_MAJOR;
    }

    @Override
    public String toString() {
        return major + "." + minor;
    }
}
