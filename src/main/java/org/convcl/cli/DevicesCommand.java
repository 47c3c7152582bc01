package org.convcl.cli;

import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.convcl.backend.BackendChoice;
import org.convcl.backend.Backends;
import org.convcl.opencl.DeviceDiscovery;
import org.convcl.opencl.OpenClDevice;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code convcl devices}: every OpenCL platform and device with what matters for convolution, and which
 * device {@code --backend auto} would use (or that it would use the Java path, and why). Always exits 0:
 * having no OpenCL is a finding, not an error.
 */
@Command(name = "devices", mixinStandardHelpOptions = true, usageHelpWidth = 100,
        header = "Lists the OpenCL platforms and devices, and the device that --backend auto picks.",
        description = {"",
            "Overrides: CONVCL_BACKEND (auto|cpu|opencl) and CONVCL_DEVICE (index or name substring), or the "
                + "system properties convcl.backend and convcl.device."})
public final class DevicesCommand implements Callable<Integer> {
    /** Extensions that change what kernels can do, reported as present or absent. */
    static final List<String> NOTABLE_EXTENSIONS = List.of("cl_khr_fp64", "cl_khr_fp16", "cl_khr_subgroups",
            "cl_intel_subgroups", "cl_intel_required_subgroup_size", "cl_khr_int64_base_atomics",
            "cl_nv_device_attribute_query", "cl_amd_device_attribute_query");

    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        DeviceDiscovery.Result discovery = DeviceDiscovery.discover();
        List<OpenClDevice> devices = discovery.devices();
        if (devices.isEmpty()) {
            out.println("No OpenCL device: " + discovery.problem().orElse("none was found"));
        } else {
            int platform = -1;
            for (OpenClDevice device : devices) {
                if (device.platformIndex() != platform) {
                    platform = device.platformIndex();
                    out.println("Platform " + platform + ": " + device.platformName() + " (" + device.platformVersion() + ")");
                }
                print(out, device);
            }
            discovery.problem().ifPresent(problem -> out.println("Note: " + problem));
        }
        out.println();
        try {
            Backends.AutoDecision decision = Backends.explainAuto();
            if (decision.device().isPresent()) {
                out.println("auto picks: OpenCL " + decision.reason());
            } else if (Backends.configuredChoice() == BackendChoice.OPENCL) {
                out.println("auto cannot pick: " + decision.reason());
            } else {
                out.println("auto picks: the Java path (cpu), because " + decision.reason());
            }
        } catch (IllegalArgumentException e) {
            out.println("auto cannot decide: " + e.getMessage());
        }
        out.flush();
        return 0;
    }

    private static void print(PrintWriter out, OpenClDevice device) {
        out.println("  #" + device.index() + " " + device.name() + " [" + device.vendor() + "]");
        out.println("      type " + device.type() + ", " + device.computeUnits() + " compute units at "
                + device.maxClockMhz() + " MHz, max work-group " + device.maxWorkGroupSize());
        out.println("      memory " + bytes(device.globalMemoryBytes()) + " global, " + bytes(device.localMemoryBytes())
                + " local, max allocation " + bytes(device.maxAllocationBytes()));
        out.println("      " + device.openClVersion() + "; " + device.openClCVersion() + "; driver "
                + device.driverVersion());
        StringBuilder extensions = new StringBuilder();
        for (String extension : NOTABLE_EXTENSIONS) {
            boolean present = device.hasExtension(extension);
            boolean vendorSpecific = !extension.startsWith("cl_khr_");
            if (present || !vendorSpecific) {
                extensions.append(extensions.length() == 0 ? "" : ", ").append(extension).append(present ? " yes" : " no");
            }
        }
        out.println("      extensions: " + extensions + " (" + device.extensions().size() + " in all)");
    }

    static String bytes(long count) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        double value = count;
        int unit = 0;
        while (value >= 1024 && unit < units.length - 1) {
            value /= 1024;
            unit++;
        }
        return unit == 0 ? count + " B" : String.format(Locale.ROOT, "%.1f %s", value, units[unit]);
    }
}
