package org.convcl.opencl.internal.shared;

import java.util.concurrent.atomic.AtomicReference;

/**
 * The release of the JVM-wide shared OpenCL backends, for {@code Backends.closeShared()} (and its shutdown hook)
 * alone: the backends refuse their users' {@code close()}, and {@code OpenClBackend} keeps its release to its
 * package, so the package installs its release here when it makes its first shared backend. This package sees no
 * OpenCL type, which keeps the packages free of cycles. Thread-safe.
 */
public final class SharedBackendRelease {
    private static final AtomicReference<Runnable> RELEASE = new AtomicReference<>();

    private SharedBackendRelease() {
    }

    /** Installs {@code release}, once; a second installation is refused (it would take the release over). */
    public static void install(Runnable release) {
        if (release == null) {
            throw new IllegalArgumentException("release: got null; expected the release of the shared backends");
        }
        if (!RELEASE.compareAndSet(null, release)) {
            throw new IllegalStateException("release: the shared backends' release is installed already; it is "
                    + "installed once, by org.convcl.opencl");
        }
    }

    /**
     * Releases every shared backend, waiting for calls in flight; the next request makes new ones. Nothing to
     * do when none was ever made.
     */
    public static void releaseAll() {
        Runnable release = RELEASE.get();
        if (release != null) {
            release.run();
        }
    }
}
