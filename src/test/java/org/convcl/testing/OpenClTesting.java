package org.convcl.testing;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Optional;
import org.convcl.opencl.DeviceDiscovery;
import org.convcl.opencl.DeviceSelector;
import org.convcl.internal.Settings;
import org.convcl.opencl.device.OpenClDevice;

/**
 * Where the OpenCL tests run. Locally without an OpenCL device they are skipped (an assumption); in CI
 * (environment variable CI=true, where PoCL is installed) a missing device fails the test loudly, so the
 * OpenCL path can never pass CI by being skipped. The device is the one {@code CONVCL_DEVICE} (or the system
 * property {@code convcl.device}) names, as for the library's users, so the same suites run on a second OpenCL
 * implementation (CI's rusticl pass); unset, the best device of any type.
 */
public final class OpenClTesting {
    private OpenClTesting() {
    }

    /**
     * The shared backend of the best OpenCL device, for tests parameterised over backends: empty locally
     * without OpenCL (the Java path is still tested), a failure in CI. Being shared, it refuses close(): a
     * parameterised test taking it sets {@code autoCloseArguments = false}.
     */
    public static Optional<org.convcl.backend.ConvBackend> sharedBackendIfAvailable() {
        if (deviceIfAny().isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(org.convcl.nn.Backends.select(org.convcl.backend.BackendChoice.OPENCL));
    }

    /** The requested OpenCL device, else the best one of any type (PoCL's CPU device counts). */
    public static OpenClDevice device() {
        Optional<OpenClDevice> device = deviceIfAny();
        if (device.isEmpty()) {
            assumeTrue(false, "no OpenCL device, OpenCL tests skipped: " + whyNone());
        }
        return device.get();
    }

    /**
     * For parameter lists that add OpenCL beside the Java path: the requested device (else the best), or empty
     * locally when there is none (the Java cases still run). In CI a missing device fails, as in {@link #device()}.
     * A requested device that matches nothing fails everywhere: a run asked for it, and skipping would hide that.
     */
    public static Optional<OpenClDevice> deviceIfAny() {
        DeviceDiscovery.Result discovery = DeviceDiscovery.discover();
        Optional<String> request = Settings.DEVICE.value();
        DeviceSelector.Choice choice = DeviceSelector.choose(discovery.devices(), request, false);
        if (choice.device().isEmpty() && request.isPresent() && !discovery.devices().isEmpty()) {
            fail(Settings.DEVICE.source() + ": " + choice.reason());
        }
        if (choice.device().isEmpty() && inCi()) {
            fail("CI must run the OpenCL tests, but OpenCL is unusable here: " + whyNone());
        }
        return choice.device();
    }

    /** Whether this run is CI (environment variable CI=true), where OpenCL tests must run. */
    public static boolean inCi() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }

    private static String whyNone() {
        return DeviceDiscovery.discover().problem().orElse("no OpenCL device was found");
    }
}
