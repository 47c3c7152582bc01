package org.convcl;

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

    /** Copies the three gradients to the host, after the device has computed them. */
    public ConvGradients download() {
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
