package org.convcl.opencl.internal.plan;

import java.util.Locale;
import org.convcl.opencl.device.OpenClDevice;

/**
 * The device classes whose untuned defaults differ ({@link ForwardVariant#untuned}), after the shape of CLBlast's
 * per-vendor databases: GPUs by vendor, and a CPU (PoCL).
 */
public enum DeviceClass {
    NVIDIA_GPU, AMD_GPU, OTHER_GPU, CPU;

    /** The class of {@code device}, from its type, vendor and platform name. */
    public static DeviceClass of(OpenClDevice device) {
        if (!device.isGpuOrAccelerator()) {
            return CPU;
        }
        String vendor = (device.vendor() + " " + device.platformName()).toLowerCase(Locale.ROOT);
        if (vendor.contains("nvidia")) {
            return NVIDIA_GPU;
        }
        if (vendor.contains("amd") || vendor.contains("advanced micro devices")) {
            return AMD_GPU;
        }
        return OTHER_GPU;
    }
}
