package org.convcl.nn;

import java.util.Arrays;
import org.convcl.internal.KernelLayout;

/**
 * A layer's kernel (masked) in the channels-last order the Java path computes in, kept across calls. Moving it
 * on every call made a new array each time: the transpose was paid per call, and the kernels' prepared forms,
 * kept per kernel array (PreparedKernels), never found the one they were made for. Host calls must use the
 * parameters' current values, which a training loop may change in place, so the moved kernel is used only while
 * the user's kernel and mask still hold the values it was made from: a copy of them is kept to compare against,
 * one read per call, as the device copies do (DeviceParameters). Costs one copy of the kernel (and mask) beside
 * the moved one, for layers whose kernel moves; a channels-last layer without a mask holds nothing.
 *
 * <p>A layer with fixed parameters trusts its values instead: the moved kernel is made once and kept, with no
 * copies, until {@link #forget()}.
 *
 * <p>Thread-safe: the check and the replacement are synchronized, and a moved kernel is never written after it
 * is made.
 */
final class HostKernel {
    private float[] kernelValues;
    private float[] maskValues;
    private float[] moved;

    /**
     * {@code kernel} times {@code mask} (when not null) in {@code layout}'s internal order; {@code trusted}: the
     * values are fixed until {@link #forget()}, so a moved kernel made from them is not checked against them.
     */
    synchronized float[] internal(LayerLayout layout, float[] kernel, float[] mask, boolean trusted) {
        if (layout.isIdentity() && mask == null) {
            // The user's own array: the kernels' prepared forms are kept for it already.
            return kernel;
        }
        if (moved != null && trusted) {
            return moved;
        }
        if (moved == null || !Arrays.equals(kernel, kernelValues) || !Arrays.equals(mask, maskValues)) {
            moved = layout.kernelToInternal(KernelLayout.masked(kernel, mask));
            kernelValues = trusted ? null : kernel.clone();
            maskValues = trusted || mask == null ? null : mask.clone();
        }
        return moved;
    }

    /** Drops the moved kernel: the next call moves the current values. */
    synchronized void forget() {
        moved = null;
        kernelValues = null;
        maskValues = null;
    }
}
