package org.convcl.backend;

import org.convcl.nn.Backends;
import org.convcl.backend.cpu.CpuBackend;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import org.convcl.opencl.DeviceDiscovery;
import org.convcl.opencl.OpenClBackend;
import org.convcl.opencl.device.OpenClDevice;
import org.convcl.testing.OpenClTesting;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Backend selection and its fallbacks, driven through the system properties (which win over the
 * environment variables, and which tests can set).
 */
class BackendSelectionTest {

    @AfterEach
    void clearOverrides() {
        System.clearProperty("convcl.backend");
        System.clearProperty("convcl.device");
    }

    @Test
    void cpuIsAlwaysTheJavaPath() {
        assertSame(CpuBackend.instance(), Backends.select(BackendChoice.CPU));
        System.setProperty("convcl.backend", "cpu");
        assertSame(CpuBackend.instance(), Backends.select(BackendChoice.AUTO), "the override steers auto");
        assertSame(CpuBackend.instance(), Backends.defaultBackend());
    }

    @Test
    void autoWithADeviceThatDoesNotExistFallsBackWithOneInfoLine() {
        String missing = "no-such-device-" + UUID.randomUUID();
        System.setProperty("convcl.device", missing);
        String log = capturingStandardError(() -> {
            assertSame(CpuBackend.instance(), Backends.select(BackendChoice.AUTO));
            assertSame(CpuBackend.instance(), Backends.select(BackendChoice.AUTO));
        });
        long lines = log.lines().filter(line -> line.contains("INFO") && line.contains("Java path")).count();
        assertEquals(1, lines, "one INFO line for the fallback, however often auto is asked:\n" + log);
        boolean openClPresent = !DeviceDiscovery.discover().devices().isEmpty();
        if (openClPresent) {
            assertTrue(log.contains(missing), "the line names the request that could not be met:\n" + log);
        }
    }

    @Test
    void openClWithADeviceThatDoesNotExistIsAClearError() {
        System.setProperty("convcl.device", "no-such-device");
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> Backends.select(BackendChoice.OPENCL));
        assertTrue(error.getMessage().startsWith("backend: opencl was requested but"), error.getMessage());
        if (!DeviceDiscovery.discover().devices().isEmpty()) {
            assertTrue(error.getMessage().contains("no-such-device"), error.getMessage());
            assertTrue(error.getMessage().contains("system property convcl.device"), error.getMessage());
        }
        System.setProperty("convcl.device", "99");
        IllegalArgumentException index = assertThrows(IllegalArgumentException.class,
                () -> Backends.select(BackendChoice.OPENCL));
        if (!DeviceDiscovery.discover().devices().isEmpty()) {
            assertTrue(index.getMessage().contains("'99' matches no OpenCL device; expected an index from 0"),
                    index.getMessage());
        }
    }

    @Test
    void badBackendOverrideNamesItsSource() {
        System.setProperty("convcl.backend", "tpu");
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, Backends::defaultBackend);
        assertTrue(error.getMessage().contains("system property convcl.backend"), error.getMessage());
        assertTrue(error.getMessage().contains("tpu"), error.getMessage());
    }

    @Test
    void openClPicksTheBestDeviceOfAnyTypeAndSharesIt() {
        OpenClDevice best = OpenClTesting.device();
        ConvBackend first = Backends.select(BackendChoice.OPENCL);
        OpenClBackend openCl = assertInstanceOf(OpenClBackend.class, first);
        assertEquals(best.index(), openCl.device().index());
        assertSame(first, Backends.select(BackendChoice.OPENCL), "one shared backend per device");
        System.setProperty("convcl.backend", "opencl");
        assertSame(first, Backends.select(BackendChoice.AUTO), "a forced backend through the override");
        assertSame(CpuBackend.instance(), Backends.select(BackendChoice.CPU), "an explicit choice beats the override");
    }

    @Test
    void deviceOverrideByIndexOrNameSubstring() {
        OpenClDevice best = OpenClTesting.device();
        System.setProperty("convcl.device", Integer.toString(best.index()));
        assertEquals(best.index(), ((OpenClBackend) Backends.select(BackendChoice.OPENCL)).device().index());
        String fragment = best.name().substring(0, Math.min(6, best.name().length())).toUpperCase();
        System.setProperty("convcl.device", fragment);
        assertEquals(best.index(), ((OpenClBackend) Backends.select(BackendChoice.OPENCL)).device().index(),
                "names match case-insensitively");
        // A named device is honoured by auto whatever its type.
        assertInstanceOf(OpenClBackend.class, Backends.select(BackendChoice.AUTO));
    }

    @Test
    void autoUsesOnlyGpusAndAccelerators() {
        OpenClTesting.device();
        boolean hasGpu = DeviceDiscovery.discover().devices().stream().anyMatch(OpenClDevice::isGpuOrAccelerator);
        ConvBackend auto = Backends.select(BackendChoice.AUTO);
        if (hasGpu) {
            OpenClBackend openCl = assertInstanceOf(OpenClBackend.class, auto);
            assertTrue(openCl.device().isGpuOrAccelerator());
        } else {
            assertSame(CpuBackend.instance(), auto, "a CPU OpenCL device (PoCL) is not auto's choice");
            Backends.AutoDecision decision = Backends.explainAuto();
            assertTrue(decision.device().isEmpty());
            assertTrue(decision.reason().contains("no GPU or accelerator"), decision.reason());
        }
    }

    private static String capturingStandardError(Runnable action) {
        PrintStream original = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            action.run();
        } finally {
            System.setErr(original);
        }
        return captured.toString(StandardCharsets.UTF_8);
    }
}
