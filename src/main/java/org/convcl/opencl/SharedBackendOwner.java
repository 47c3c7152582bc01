package org.convcl.opencl;

/**
 * The right to release one shared {@link OpenClBackend}: a shared backend refuses {@link OpenClBackend#close()}
 * from its users, because every layer that selected it holds the same instance, and is released only through
 * this owner. {@code Backends} keeps the owners of the JVM-wide per-device backends to itself, so that only
 * {@code Backends.closeShared()} (and the shutdown hook that calls it) can release them. Thread-safe.
 */
public final class SharedBackendOwner {
    private final OpenClBackend backend;

    SharedBackendOwner(OpenClBackend backend) {
        this.backend = backend;
    }

    /** The shared backend, to hand out to its users. */
    public OpenClBackend backend() {
        return backend;
    }

    /**
     * Waits for calls in flight, then releases the backend and everything it created, as
     * {@link OpenClBackend#close()} does for a private one. Idempotent.
     */
    public void release() {
        backend.release();
    }

    @Override
    public String toString() {
        return "owner of the shared " + backend.name();
    }
}
