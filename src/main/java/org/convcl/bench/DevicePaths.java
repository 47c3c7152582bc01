package org.convcl.bench;

import java.util.function.Function;
import org.convcl.backend.ConvBackend;
import org.convcl.opencl.OpenClBackend;
import org.convcl.opencl.device.OpenClDevice;

/** What the bench knows of a backend's device: its name, whether it is a GPU, and its device-resident path. */
public final class DevicePaths {
    private DevicePaths() {
    }

    /** A device-resident call maker for {@code backend}, or one that returns null where there is none. */
    public static Function<BenchRunner.Prepared, DeviceCall> forBackend(ConvBackend backend) {
        if (backend instanceof OpenClBackend openCl) {
            return prepared -> new OpenClDeviceCall(openCl, prepared);
        }
        return prepared -> null;
    }

    public static String deviceName(ConvBackend backend) {
        if (backend instanceof OpenClBackend openCl) {
            OpenClDevice device = openCl.device();
            return device.name() + " (" + device.type() + ", " + device.computeUnits() + " compute units, "
                    + device.platformName() + ", driver " + device.driverVersion() + ")";
        }
        return cpuName();
    }

    public static boolean isGpu(ConvBackend backend) {
        return backend instanceof OpenClBackend openCl && openCl.device().isGpuOrAccelerator();
    }

    private static String cpuName() {
        String model = "unknown CPU";
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    model = line.substring(line.indexOf(':') + 1).trim();
                    break;
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            model = System.getProperty("os.arch");
        }
        return model + ", " + Runtime.getRuntime().availableProcessors() + " cores, Java "
                + Runtime.version().feature() + (org.convcl.backend.cpu.CpuBackend.vectorApiAvailable()
                ? ", Vector API" : ", plain loops");
    }
}
