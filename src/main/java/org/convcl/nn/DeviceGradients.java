package org.convcl.nn;

import java.util.Arrays;
import java.util.Objects;
import org.convcl.Tensor;
import org.convcl.opencl.DeviceTensor;

/**
 * The gradients of a backward pass run on an OpenCL device ({@code Conv.backward(DeviceTensor, DeviceTensor)},
 * {@code ConvTranspose.backward(DeviceTensor, DeviceTensor)}), resident there: {@code dx} shaped like the
 * input, {@code dkernel} like the kernel parameter (masked like it), {@code dbias} {@code (Cout)} or null when
 * the layer has no bias; {@code dscale} and {@code dshift} {@code (Cout)} when the layer has that epilogue part,
 * {@code dresidual} (the output's shape) when the call had a residual, else null. The work is enqueued when the
 * record is made; {@link #download()} (or any download of a tensor) waits for it.
 *
 * <p>Owns its tensors: close it (try-with-resources) to release them.
 */
public record DeviceGradients(DeviceTensor dx, DeviceTensor dkernel, DeviceTensor dbias, DeviceTensor dscale,
        DeviceTensor dshift, DeviceTensor dresidual) implements AutoCloseable {

    /** The gradients of a layer without an epilogue. */
    public DeviceGradients(DeviceTensor dx, DeviceTensor dkernel, DeviceTensor dbias) {
        this(dx, dkernel, dbias, null, null, null);
    }

    /**
     * Copies the gradients to the host, after the device has computed them. An interrupted caller stops
     * waiting with a {@link java.util.concurrent.CancellationException} ({@link DeviceTensor#awaitUnlessInterrupted}).
     */
    public ConvGradients download() {
        // All of them first: a copy can wait behind the kernel gradient (a CPU device runs one command at a time),
        // inside the driver where no interrupt reaches it; the wait for the work itself can be stopped.
        for (DeviceTensor tensor : present()) {
            tensor.awaitUnlessInterrupted();
        }
        return new ConvGradients(dx.download(), dkernel.download(), downloaded(dbias), downloaded(dscale),
                downloaded(dshift), downloaded(dresidual));
    }

    /** Releases the tensors. Idempotent. */
    @Override
    public void close() {
        for (DeviceTensor tensor : present()) {
            tensor.close();
        }
    }

    private DeviceTensor[] present() {
        return Arrays.stream(new DeviceTensor[] {dx, dkernel, dbias, dscale, dshift, dresidual})
                .filter(Objects::nonNull).toArray(DeviceTensor[]::new);
    }

    private static Tensor downloaded(DeviceTensor tensor) {
        return tensor == null ? null : tensor.download();
    }
}
