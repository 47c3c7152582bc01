package org.convcl.opencl;

import java.util.HashMap;
import java.util.Map;
import org.convcl.internal.BoundedShutdown;
import org.convcl.opencl.device.OpenClDevice;
import org.convcl.opencl.internal.shared.SharedBackendRelease;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The JVM-wide shared backends, one per device ({@link OpenClBackend#shared}): made on first use, released
 * together at JVM exit or through {@link SharedBackendRelease} ({@code Backends.closeShared()}), after which the
 * next request makes new ones. Thread-safe.
 */
final class SharedBackends {
    private static final Logger LOG = LoggerFactory.getLogger(SharedBackends.class);
    /** By device index. Guarded by itself. */
    private static final Map<Integer, OpenClBackend> SHARED = new HashMap<>();

    private static boolean shutdownHookInstalled;

    static {
        SharedBackendRelease.install(SharedBackends::releaseAll);
    }

    private SharedBackends() {
    }

    static OpenClBackend of(OpenClDevice device) {
        synchronized (SHARED) {
            OpenClBackend backend = SHARED.computeIfAbsent(device.index(), index -> OpenClBackend.newShared(device));
            if (!shutdownHookInstalled) {
                shutdownHookInstalled = true;
                // Bounded: a call stuck in flight holds the backend's lock, and SIGTERM must still end the JVM.
                Runtime.getRuntime().addShutdownHook(BoundedShutdown.hook("convcl-opencl-shutdown",
                        SharedBackends::releaseAll, "shutting down with a call in flight; OpenCL resources left to "
                        + "the driver"));
            }
            return backend;
        }
    }

    private static void releaseAll() {
        synchronized (SHARED) {
            for (OpenClBackend backend : SHARED.values()) {
                try {
                    backend.release();
                } catch (RuntimeException e) {
                    LOG.debug("closing {} failed: {}", backend.name(), e.toString());
                }
            }
            SHARED.clear();
        }
    }
}
