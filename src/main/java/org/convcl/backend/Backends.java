package org.convcl.backend;

/**
 * Picks the backend a call runs on. Until the OpenCL backend lands every choice resolves to the Java path.
 */
public final class Backends {
    private Backends() {
    }

    /** The backend used when the caller names none. */
    public static ConvBackend defaultBackend() {
        return CpuBackend.instance();
    }
}
