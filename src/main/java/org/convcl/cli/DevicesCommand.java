package org.convcl.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.convcl.backend.BackendChoice;
import org.convcl.nn.Backends;
import org.convcl.opencl.DeviceDiscovery;
import org.convcl.opencl.device.OpenClDevice;
import org.convcl.opencl.internal.probe.DeviceCheck;
import org.convcl.opencl.internal.probe.ProbeResult;
import org.convcl.opencl.internal.probe.VariantProbe;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code convcl devices}: every OpenCL platform and device with what matters for convolution, and which
 * device {@code --backend auto} would use (or that it would use the Java path, and why). Exits 0: having no
 * OpenCL is a finding, not an error. With {@code --check}, every kernel variant on every device is built, run on a
 * small case, compared with the Java path and timed ({@link DeviceCheck}); the exit status is then 0 only when
 * no variant failed on any device (one whose blocking does not fit a device is shown, not counted: calls do not
 * use it there), 1 otherwise (or when there is no device to check).
 */
@Command(name = "devices", mixinStandardHelpOptions = true, usageHelpWidth = 100,
        header = "Lists the OpenCL platforms and devices, and the device that --backend auto picks.",
        description = {"",
            "Overrides: CONVCL_BACKEND (auto|cpu|opencl) and CONVCL_DEVICE (index or name substring), or the "
                + "system properties convcl.backend and convcl.device."},
        footerHeading = "%nExit codes:%n",
        footer = {"  0  listed (with --check: no kernel variant failed on any device)",
            "  1  with --check: a variant failed to build, failed to run or gave a wrong result on a device,",
            "     or there was no device to check",
            "  2  invalid command line"})
public final class DevicesCommand implements Callable<Integer> {
    /** The exit status of a check that found a failure. */
    static final int EXIT_CHECK_FAILED = 1;

    @Option(names = "--check", description = "Also check each device: every kernel variant is built, run on a "
            + "small case and compared with the Java path (max_rel_err), and timed. Run this first on a new GPU. "
            + "A failing fast path is also disabled when a call first uses it, with a WARN.")
    private boolean check;

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
        int status = check ? check(out, devices) : 0;
        out.flush();
        return status;
    }

    /** Prints the check of every device; the exit status: 0 when every variant works everywhere, else 1. */
    private static int check(PrintWriter out, List<OpenClDevice> devices) {
        out.println();
        if (devices.isEmpty()) {
            out.println("Check: no OpenCL device to check");
            return EXIT_CHECK_FAILED;
        }
        out.println("Check: each kernel variant built, run on a small case against the Java path, and timed");
        List<String> failures = new ArrayList<>();
        for (OpenClDevice device : devices) {
            out.println("  #" + device.index() + " " + device.name() + " (driver " + device.driverVersion() + ")");
            out.flush();
            List<DeviceCheck.Row> rows;
            try {
                rows = DeviceCheck.run(device);
            } catch (RuntimeException e) {
                out.println("      cannot be checked: " + VariantProbe.oneLine(e.getMessage()));
                failures.add("#" + device.index() + " (no context)");
                continue;
            }
            for (DeviceCheck.Row row : rows) {
                out.println("      " + line(row));
                if (row.failed()) {
                    failures.add("#" + device.index() + " " + row.variant());
                }
            }
        }
        out.println(failures.isEmpty() ? "Check passed: no variant failed on any device"
                : "Check failed: " + String.join(", ", failures) + " (calls skip a failing fast path after one WARN; "
                        + "a failing portable kernel is a driver problem to report)");
        return failures.isEmpty() ? 0 : EXIT_CHECK_FAILED;
    }

    /**
     * The label column's width: the longest label ({@code mma bfloat16 (tensor cores)}) and a space, so that the
     * columns after it line up.
     */
    private static final int LABEL_WIDTH = 28;

    /** {@code gemm  builds yes  matches yes (max_rel_err 1.2e-07)  0.213 ms  gemm 8x32x16 ...}. */
    static String line(DeviceCheck.Row row) {
        String label = row.variant().label();
        // A label longer than the column still gets its space before the next column.
        String name = String.format(Locale.ROOT, "%-" + Math.max(LABEL_WIDTH, label.length() + 1) + "s", label);
        if (row.result().isEmpty()) {
            return name + row.notRunBecause();
        }
        ProbeResult result = row.result().get();
        return switch (result.outcome()) {
            case BUILD_FAILED -> name + "builds no: " + result.reason() + "  [" + result.config() + "]";
            case DOES_NOT_FIT -> name + "builds yes  fits no (calls use other kernels): " + result.reason() + "  ["
                    + result.config() + "]";
            case RUN_FAILED -> name + "builds yes  runs no: " + result.reason() + "  [" + result.config() + "]";
            case WRONG_RESULT -> name + "builds yes  matches no: " + result.reason() + "  [" + result.config() + "]";
            case PASSED -> name + String.format(Locale.ROOT, "builds yes  matches yes (max_rel_err %s)  %.3f ms  [%s]",
                    result.maxRelErrText(), result.ms(), result.config());
        };
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
