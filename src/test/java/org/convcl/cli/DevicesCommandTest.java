package org.convcl.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.convcl.opencl.DeviceDiscovery;
import org.convcl.opencl.OpenClDevice;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code convcl devices}: lists what discovery found and what auto picks; exits 0 either way. */
class DevicesCommandTest {

    @AfterEach
    void clearOverrides() {
        System.clearProperty("convcl.backend");
        System.clearProperty("convcl.device");
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
