package org.convcl.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.convcl.opencl.DeviceDiscovery;
import org.convcl.opencl.device.OpenClDevice;
import org.convcl.opencl.internal.runtime.KernelSources;
import org.convcl.testing.OpenClTesting;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code convcl devices}: lists what discovery found and what auto picks; exits 0 either way. With {@code --check}
 * it builds and runs every kernel variant on every device and exits 1 when one fails.
 */
class DevicesCommandTest {
    @TempDir
    Path kernels;

    @AfterEach
    void clearOverrides() {
        System.clearProperty("convcl.backend");
        System.clearProperty("convcl.device");
        System.clearProperty("convcl.kernels.dir");
    }

    @Test
    @Timeout(120)
    void checkRunsEveryVariantOnEveryDeviceAgainstTheJavaPath() {
        OpenClDevice device = OpenClTesting.device();
        CliRun run = CliRun.of("devices", "--check");
        assertEquals(0, run.exitCode(), run.stdout() + run.stderr());
        String output = run.stdout();
        assertTrue(output.contains("  #" + device.index() + " " + device.name() + " (driver " + device.driverVersion()
                + ")"), output);
        for (String variant : new String[] {"general", "gemm", "depthwise"}) {
            assertTrue(output.lines().anyMatch(line -> line.matches("\\s+" + variant
                    + "\\s+builds yes  matches yes \\(max_rel_err [0-9.e+-]+\\)  [0-9.]+ ms  \\[.*\\]")),
                    variant + " built, matched and timed:\n" + output);
        }
        assertTrue(output.contains("mma (tensor cores)"), output);
        assertTrue(output.contains("Check passed"), output);
    }

    @Test
    @Timeout(120)
    void checkExitsNonZeroWhenAVariantGivesAWrongResult() throws IOException {
        OpenClDevice device = OpenClTesting.device();
        // The emulated mma adds one to every product block: it builds and runs, and is wrong.
        String packaged = KernelSources.load("conv_gemm.cl").text();
        assertTrue(packaged.contains("float sum = d[i];"));
        Files.writeString(kernels.resolve("conv_gemm.cl"), packaged.replace("float sum = d[i];",
                "float sum = d[i] + 1.0f;"), StandardCharsets.UTF_8);
        System.setProperty("convcl.kernels.dir", kernels.toString());
        CliRun run = CliRun.of("devices", "--check");
        assertEquals(DevicesCommand.EXIT_CHECK_FAILED, run.exitCode(), run.stdout() + run.stderr());
        String output = run.stdout();
        assertTrue(output.lines().anyMatch(line -> line.matches("\\s+mma \\(emulated\\)\\s+builds yes  matches no: "
                + "max_rel_err [0-9.e+-]+ against the Java path exceeds 1e-03  \\[gemm .* mma .*\\]")), output);
        assertTrue(output.contains("Check failed: #" + device.index() + " mma (emulated)"), output);
        // The portable kernels, from the same edited file, still pass.
        assertTrue(output.lines().anyMatch(line -> line.matches("\\s+gemm\\s+builds yes  matches yes .*")), output);
    }

    @Test
    void listsEveryDeviceAndAutosChoice() {
        String output = run();
        DeviceDiscovery.Result discovery = DeviceDiscovery.discover();
        for (OpenClDevice device : discovery.devices()) {
            assertTrue(output.contains("#" + device.index() + " " + device.name()), output);
            assertTrue(output.contains("type " + device.type()), output);
            assertTrue(output.contains("compute units"), output);
            assertTrue(output.contains("max allocation"), output);
            assertTrue(output.contains(device.driverVersion()), output);
            assertTrue(output.contains("cl_khr_fp64 " + (device.hasExtension("cl_khr_fp64") ? "yes" : "no")), output);
            assertTrue(output.contains("cl_khr_fp16"), output);
        }
        if (discovery.devices().isEmpty()) {
            assertTrue(output.contains("No OpenCL device: "), output);
        }
        assertTrue(output.contains("auto picks: "), output);
    }

    @Test
    void saysWhyAutoUsesTheJavaPath() {
        System.setProperty("convcl.backend", "cpu");
        String output = run();
        assertTrue(output.contains("auto picks: the Java path (cpu), because system property convcl.backend is cpu"),
                output);
    }

    @Test
    void forcedOpenClWithoutADeviceSaysAutoWouldFail() {
        System.setProperty("convcl.backend", "opencl");
        System.setProperty("convcl.device", "no-such-device");
        String output = run();
        assertTrue(output.contains("auto cannot pick: ") && output.contains("auto fails"), output);
    }

    @Test
    void namedDeviceThatDoesNotExistIsReported() {
        System.setProperty("convcl.device", "no-such-device");
        String output = run();
        assertTrue(output.contains("auto picks: the Java path"), output);
    }

    private static String run() {
        StringWriter text = new StringWriter();
        CommandLine command = new CommandLine(new DevicesCommand());
        command.setOut(new PrintWriter(text));
        assertEquals(0, command.execute());
        return text.toString();
    }
}
