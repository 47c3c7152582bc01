package org.convcl.backend;

/**
 * Picks the backend a call runs on. Until the OpenCL backend lands every choice but an explicit
 * {@code opencl} resolves to the Java path.
 */
public final class Backends {
    private Backends() {
    }

    /** The backend used when the caller names none. */
    public static ConvBackend defaultBackend() {
        return select(BackendChoice.AUTO);
    }

    /**
     * The backend for {@code choice}. An explicit {@link BackendChoice#OPENCL} that cannot be met throws
     * {@link IllegalArgumentException} saying why.
     */
    public static ConvBackend select(BackendChoice choice) {
        if (choice == BackendChoice.OPENCL) {
            throw new IllegalArgumentException("backend: opencl is not available in this build yet; use auto or cpu");
        }
        return CpuBackend.instance();
    }
}
