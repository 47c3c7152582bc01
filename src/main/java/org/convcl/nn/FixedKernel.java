package org.convcl.nn;

import org.convcl.backend.ConvBackend;

/**
 * The host kernel array that a layer built with fixed parameters has promised its backend will not change
 * ({@link ConvBackend#fixKernel}), so that the Java path uses the forms it prepared from it without comparing the
 * array to their values on every call. One promise at a time: a new array (the kernel moved again after
 * {@link #release}) ends the old one's. Thread-safe.
 */
final class FixedKernel {
    private final ConvBackend backend;
    private float[] promised;

    FixedKernel(ConvBackend backend) {
        this.backend = backend;
    }

    /** {@code kernel}, promised fixed to the backend unless it already is. */
    synchronized float[] promise(float[] kernel) {
        if (kernel != promised) {
            release();
            backend.fixKernel(kernel);
            promised = kernel;
        }
        return kernel;
    }

    /** Ends the promise: what the backend prepared from the array is dropped, and the next call prepares anew. */
    synchronized void release() {
        if (promised != null) {
            backend.releaseKernel(promised);
            promised = null;
        }
    }
}
