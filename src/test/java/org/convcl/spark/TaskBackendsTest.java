package org.convcl.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.convcl.backend.BackendChoice;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.opencl.DeviceDiscovery;
import org.junit.jupiter.api.Test;

/** What a task runs on when its GPU address cannot be used, and that cpu never looks for devices. */
class TaskBackendsTest {
    private static final Supplier<DeviceDiscovery.Result> NO_OPENCL =
            () -> new DeviceDiscovery.Result(List.of(), Optional.of("no OpenCL platform is installed"));
    private static final Supplier<DeviceDiscovery.Result> NOT_ASKED = () -> {
        throw new AssertionError("device discovery must not run here");
    };

    @Test
    void cpuRunsOnTheJavaPathWhateverGpuTheTaskHas() {
        TaskBackends.Selection selection = TaskBackends.select(BackendChoice.CPU, "0", NOT_ASKED);
        assertSame(CpuBackend.instance(), selection.backend());
        assertEquals("cpu", selection.key());
    }

    @Test
    void autoWithAnUnusableGpuAddressRunsOnTheJavaPathSayingWhy() {
        TaskBackends.Selection selection = TaskBackends.select(BackendChoice.AUTO, "0", NO_OPENCL);
        assertSame(CpuBackend.instance(), selection.backend());
        assertTrue(selection.why().contains("Spark GPU address '0' unusable: no OpenCL device: no OpenCL platform is "
                + "installed"), selection.why());
    }

    @Test
    void openClWithAnUnusableGpuAddressFailsSayingWhy() {
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                () -> TaskBackends.select(BackendChoice.OPENCL, "1", NO_OPENCL));
        assertEquals("backend: opencl was requested, but the task's GPU cannot be used: no OpenCL device: no OpenCL "
                + "platform is installed", refused.getMessage());
    }
}
