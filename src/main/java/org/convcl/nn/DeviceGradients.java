package org.convcl.nn;

import org.convcl.opencl.DeviceTensor;

/**
 * The gradients of a backward pass run on an OpenCL device ({@code Conv.backward(DeviceTensor, DeviceTensor)},
 * {@code ConvTranspose.backward(DeviceTensor, DeviceTensor)}), resident there: {@code dx} shaped like the
 * input, {@code dkernel} like the kernel parameter (masked like it), {@code dbias} {@code (Cout)} or null when
 * the layer has no bias. The work is enqueued when the record is made; {@link #download()} (or any download of
 * a tensor) waits for it.
 *
 * <p>Owns its tensors: close it (try-with-resources) to release them.
 */
public record DeviceGradients(DeviceTensor dx, DeviceTensor dkernel, DeviceTensor dbias) implements AutoCloseable {

    /**
     * Copies the three gradients to the host, after the device has computed them. An interrupted caller stops
     * waiting with a {@link java.util.concurrent.CancellationException} ({@link DeviceTensor#awaitUnlessInterrupted}).
     */
    public ConvGradients download() {
        // All three first: a copy can wait behind the kernel gradient (a CPU device runs one command at a time),
        // inside the driver where no interrupt reaches it; the wait for the work itself can be stopped.
        dx.awaitUnlessInterrupted();
        dkernel.awaitUnlessInterrupted();
        if (dbias != null) {
            dbias.awaitUnlessInterrupted();
        }
        return new ConvGradients(dx.download(), dkernel.download(), dbias == null ? null : dbias.download());
    }

    /** Releases the three tensors. Idempotent. */
    @Override
    public void close() {
        dx.close();
        dkernel.close();
        if (dbias != null) {
            dbias.close();
        }
    }
}
