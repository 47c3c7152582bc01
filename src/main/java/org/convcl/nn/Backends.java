package org.convcl.nn;

import org.convcl.backend.cpu.CpuBackend;
import org.convcl.backend.ConvBackend;
import org.convcl.backend.BackendChoice;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.convcl.internal.Settings;
import org.convcl.opencl.DeviceDiscovery;
import org.convcl.opencl.DeviceSelector;
import org.convcl.opencl.OpenClBackend;
import org.convcl.opencl.device.OpenClDevice;
import org.convcl.opencl.internal.shared.SharedBackendRelease;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Picks the backend a call runs on.
 *
 * <ul>
 *   <li>{@code cpu}: the pure-Java {@link CpuBackend}.</li>
 *   <li>{@code opencl}: the best OpenCL device of any type (a GPU before an accelerator before a CPU
 *       device such as PoCL's), or the device named by {@code convcl.device} / {@code CONVCL_DEVICE} (an
 *       index from {@code convcl devices} or a case-insensitive name substring). When none can be used
 *       this throws {@link IllegalArgumentException} saying why.</li>
 *   <li>{@code auto}: first the override {@code convcl.backend} / {@code CONVCL_BACKEND} ({@code auto},
 *       {@code cpu} or {@code opencl}) if set; else a GPU or accelerator OpenCL device when one exists (or
 *       the device {@code convcl.device} names, whatever its type), else the Java path, with one INFO line
 *       saying why. Auto never fails for a missing library, ICD, platform or device.</li>
 * </ul>
 * A system property wins over the environment variable of the same meaning; an explicit {@code cpu} or
 * {@code opencl} argument wins over both backend overrides (the CLI's {@code --backend} flag).
 *
 * <p>Every backend returned here is shared ({@link ConvBackend#isShared()}): the Java path's singleton, or one
 * OpenCL backend per device for the whole JVM, used by every layer that selected it. Do not close them:
 * their {@code close()} throws {@link IllegalStateException} and leaves them working. The OpenCL ones are
 * released by a shutdown hook at JVM exit (which waits for calls in flight a few seconds at most, then lets the
 * JVM exit, saying so on standard error) or by {@link #closeShared()}, the only way to release them (through
 * {@link SharedBackendRelease}, internal to the library); the next request after that makes new ones. For a
 * backend you own and close, use {@link OpenClBackend#create}. Thread-safe.
 */
public final class Backends {
    private static final Logger LOG = LoggerFactory.getLogger(Backends.class);
    private static final Set<String> REPORTED = ConcurrentHashMap.newKeySet();

    private Backends() {
    }

    /** The backend used when the caller names none: {@code select(AUTO)}. */
    public static ConvBackend defaultBackend() {
        return select(BackendChoice.AUTO);
    }

    /**
     * The backend for {@code choice}. An explicit {@link BackendChoice#OPENCL} that cannot be met throws
     * {@link IllegalArgumentException} saying why; {@link BackendChoice#AUTO} always returns a backend.
     */
    public static ConvBackend select(BackendChoice choice) {
        if (choice == null) {
            throw new IllegalArgumentException("backend: got null; expected auto, cpu or opencl");
        }
        BackendChoice effective = choice == BackendChoice.AUTO ? configuredChoice() : choice;
        return switch (effective) {
            case CPU -> CpuBackend.instance();
            case OPENCL -> openCl();
            case AUTO -> auto();
        };
    }

    /** The choice the backend override asks for, {@link BackendChoice#AUTO} when it is unset. */
    public static BackendChoice configuredChoice() {
        return BackendChoice.parse(Settings.BACKEND.get());
    }

    /** What {@code auto} resolves to now, without creating anything: a device, or why the Java path. */
    public record AutoDecision(Optional<OpenClDevice> device, String reason) {
    }

    /** Explains the {@code auto} choice (for {@code convcl devices} and logs). */
    public static AutoDecision explainAuto() {
        BackendChoice configured = configuredChoice();
        if (configured == BackendChoice.CPU) {
            return new AutoDecision(Optional.empty(), Settings.BACKEND.source() + " is cpu");
        }
        DeviceSelector.Choice choice = chooseDevice(configured == BackendChoice.AUTO);
        if (configured == BackendChoice.OPENCL) {
            String forced = Settings.BACKEND.source() + " is opencl";
            return new AutoDecision(choice.device(), choice.device().isPresent() ? choice.reason() + " (" + forced + ")"
                    : choice.reason() + "; and since " + forced + ", auto fails instead of using the Java path");
        }
        return new AutoDecision(choice.device(), choice.reason());
    }

    /**
     * The shared backend of {@code device}, created on first use (and again after {@link #closeShared()}).
     * Its {@code close()} is refused; see the class comment.
     */
    public static OpenClBackend openClBackend(OpenClDevice device) {
        if (device == null) {
            throw new IllegalArgumentException("device: got null; expected an OpenClDevice (DeviceDiscovery.discover)");
        }
        return OpenClBackend.shared(device);
    }

    /**
     * Releases every shared OpenCL backend, waiting for calls in flight; the next request makes new ones.
     * Layers and device tensors on the released backends stop working (an {@link IllegalStateException}
     * saying so): build them again on the new backend.
     */
    public static void closeShared() {
        SharedBackendRelease.releaseAll();
    }

    private static ConvBackend auto() {
        DeviceSelector.Choice choice = chooseDevice(true);
        if (choice.device().isEmpty()) {
            reportOnce("backend auto: using the Java path because " + choice.reason());
            return CpuBackend.instance();
        }
        OpenClDevice device = choice.device().get();
        try {
            return openClBackend(device);
        } catch (RuntimeException e) {
            reportOnce("backend auto: using the Java path because OpenCL device " + device.describe()
                    + " could not be opened: " + e.getMessage());
            return CpuBackend.instance();
        }
    }

    private static OpenClBackend openCl() {
        DeviceSelector.Choice choice = chooseDevice(false);
        if (choice.device().isEmpty()) {
            throw new IllegalArgumentException("backend: opencl was requested but cannot be used: " + choice.reason()
                    + "; use --backend cpu (or auto) to run on the Java path");
        }
        OpenClDevice device = choice.device().get();
        try {
            return openClBackend(device);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("backend: opencl was requested but device " + device.describe()
                    + " could not be opened: " + e.getMessage(), e);
        }
    }

    /** Discovery plus the device override; {@code gpuOrAcceleratorOnly} for auto. */
    private static DeviceSelector.Choice chooseDevice(boolean gpuOrAcceleratorOnly) {
        DeviceDiscovery.Result discovery = DeviceDiscovery.discover();
        if (discovery.devices().isEmpty()) {
            return new DeviceSelector.Choice(Optional.empty(), discovery.problem().orElse("no OpenCL device was found"));
        }
        Optional<String> request = Settings.DEVICE.value();
        DeviceSelector.Choice choice = DeviceSelector.choose(discovery.devices(), request, gpuOrAcceleratorOnly);
        if (request.isPresent() && choice.device().isEmpty()) {
            return new DeviceSelector.Choice(Optional.empty(), Settings.DEVICE.source() + ": " + choice.reason());
        }
        return choice;
    }

    /** One INFO line per distinct reason, however often auto is asked. */
    private static void reportOnce(String message) {
        if (REPORTED.add(message)) {
            LOG.info(message);
        }
    }
}
