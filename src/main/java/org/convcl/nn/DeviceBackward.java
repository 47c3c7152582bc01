package org.convcl.nn;

import org.convcl.Tensor;
import org.convcl.EdgePadding;
import org.convcl.EdgeMode;
import org.convcl.ConvTransposeGeometry;
import org.convcl.ConvGeometry;
import org.convcl.AdjointGeometry;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.convcl.opencl.DeviceTensor;
import org.convcl.opencl.OpenClBackend;

/**
 * Backward passes on an OpenCL device, assembled from {@link OpenClBackend} operations as {@link ConvBackward}
 * assembles them for the CPU backend (the same steps, so the same results): the input gradient as a forward
 * convolution on the {@link AdjointGeometry adjoint geometry} with the kernel flipped and channel-swapped on the
 * device (then folded for wrap-around and mirrored padding), the kernel and bias gradients as deterministic
 * reductions. On device tensors nothing goes to the host; the calls enqueue work and return. Host tensors on an
 * OpenCL backend take this path too, through {@link #onHost}: one execution path per device.
 * Shared by {@link Conv} and {@link ConvTranspose}. Stateless.
 */
final class DeviceBackward {
    private DeviceBackward() {
    }

    /** A backward pass on device tensors: the input, the output gradient and the parameters on the device. */
    interface Pass {
        DeviceGradients run(DeviceTensor x, DeviceTensor dy, DeviceParameters.Resident parameters);
    }

    /**
     * A backward pass on host tensors, run on the device: {@code x}, {@code dy} and the parameters' current values
     * ({@code kernel} and {@code mask} as the layer's {@code arrangements} take them, {@code bias} and {@code mask}
     * each null when absent) uploaded into pooled device tensors for this call, {@code pass} run on them, its
     * gradients downloaded and every device tensor closed again (so a loop of calls allocates no device memory
     * after its first).
     */
    static ConvGradients onHost(OpenClBackend device, Tensor x, Tensor dy, Tensor kernel, Tensor bias, Tensor mask,
            DeviceParameters.Arrangements arrangements, Pass pass) {
        return DeviceParameters.once(device, kernel, bias, mask, arrangements, parameters -> {
            try (DeviceTensor deviceX = device.upload(x); DeviceTensor deviceDy = device.upload(dy);
                    DeviceGradients gradients = pass.run(deviceX, deviceDy, parameters)) {
                // Already in the host shapes: dx the input's, dkernel the held kernel's, dbias (Cout).
                return gradients.download();
            }
        });
    }

    /**
     * The gradients of a {@link Conv} of geometry {@code g}: {@code parameters.kernel()} is what the
     * convolution multiplies by (masked), {@code parameters.mask()} masks the kernel gradient when not null,
     * and there is a bias gradient when {@code parameters.bias()} is not null.
     */
    static DeviceGradients conv(OpenClBackend device, ConvGeometry g, DeviceTensor x, DeviceTensor dy,
            DeviceParameters.Resident parameters) {
        List<DeviceTensor> made = new ArrayList<>();
        try {
            DeviceTensor dx = keep(made, inputGradient(device, g, parameters.flipped().forGroups(g.groups()), dy));
            DeviceTensor dkernel = keep(made, kernelGradient(device, g, x, dy));
            if (parameters.mask() != null) {
                device.multiplyInPlace(dkernel, parameters.mask());
            }
            DeviceTensor dbias = parameters.bias() == null ? null
                    : keep(made, biasGradient(device, dy, g.outChannels()));
            return new DeviceGradients(dx, dkernel, dbias);
        } catch (RuntimeException e) {
            made.forEach(DeviceTensor::close);
            throw e;
        }
    }

    /**
     * The gradients of a {@link ConvTranspose} of geometry {@code g}: {@code parameters.kernel()} is in the
     * layout the convolution that runs it multiplies by ({@link ConvTransposeGeometry#convKernel}, masked); the
     * kernel gradient is returned in the layout the layer holds, masked when {@code parameters.mask()} is set.
     */
    static DeviceGradients convTranspose(OpenClBackend device, ConvTransposeGeometry g, DeviceTensor x,
            DeviceTensor dy, DeviceParameters.Resident parameters) {
        ConvGeometry conv = g.conv();
        List<DeviceTensor> made = new ArrayList<>();
        DeviceTensor unwrapped = null;
        try {
            DeviceTensor convGradient = dy;
            if (g.circularFold() != null) {
                // The adjoint of the wrap-sum: dy unwrapped back to the VALID length.
                unwrapped = device.allocate(conv.outputShape());
                device.pad(g.circularFold(), dy, unwrapped);
                convGradient = unwrapped;
            }
            DeviceTensor dx = keep(made, inputGradient(device, conv, parameters.flipped().forGroups(conv.groups()), convGradient));
            DeviceTensor dkernel = keep(made, kernelGradient(device, conv, x, convGradient));
            if (g.transposeKernel()) {
                // Back from the convolution's layout to the held one: flipSwap is its own inverse.
                DeviceTensor held = keep(made, device.allocate(g.kernelShape()));
                device.flipSwap(dkernel, 1, held);
                made.remove(dkernel);
                dkernel.close();
                dkernel = held;
            }
            if (parameters.mask() != null) {
                device.multiplyInPlace(dkernel, parameters.mask());
            }
            DeviceTensor dbias = parameters.bias() == null ? null
                    : keep(made, biasGradient(device, dy, conv.outChannels()));
            return new DeviceGradients(dx, dkernel, dbias);
        } catch (RuntimeException e) {
            made.forEach(DeviceTensor::close);
            throw e;
        } finally {
            // Released now, still safe: the device keeps a buffer until the work enqueued with it is done.
            if (unwrapped != null) {
                unwrapped.close();
            }
        }
    }

    /**
     * dx of {@code sum(conv(x, kernel) * dy)} for geometry {@code g}, given the kernel already flipped and swapped
     * for the adjoint ({@code KernelLayout.flipSwap} with {@code g}'s groups; the layer keeps it resident).
     */
    static DeviceTensor inputGradient(OpenClBackend device, ConvGeometry g, DeviceTensor flipped, DeviceTensor dy) {
        ConvGeometry valid = AdjointGeometry.paddedInput(g);
        ConvGeometry adjoint = AdjointGeometry.inputGradient(valid);
        if (!Arrays.equals(adjoint.outputShape(), valid.inputShape())) {
            throw new AssertionError("adjoint " + adjoint + " does not reproduce the input of " + valid);
        }
        DeviceTensor padded = null;
        DeviceTensor dx = null;
        try {
            if (g.edgeMode() == EdgeMode.ZERO) {
                dx = device.allocate(g.inputShape());
                device.forward(adjoint, dy, flipped, null, dx);
                return dx;
            }
            padded = device.allocate(valid.inputShape());
            device.forward(adjoint, dy, flipped, null, padded);
            dx = device.allocate(g.inputShape());
            device.fold(EdgePadding.ofInput(g), padded, null, dx);
            return dx;
        } catch (RuntimeException e) {
            if (dx != null) {
                dx.close();
            }
            throw e;
        } finally {
            if (padded != null) {
                padded.close();
            }
        }
    }

    /** dK of {@code sum(conv(x, K) * dy)}, in the geometry's kernel layout {@code (*k, Cin/groups, Cout)}. */
    static DeviceTensor kernelGradient(OpenClBackend device, ConvGeometry g, DeviceTensor x, DeviceTensor dy) {
        DeviceTensor dkernel = device.allocate(g.kernelShape());
        try {
            device.kernelGradient(g, x, dy, dkernel);
            return dkernel;
        } catch (RuntimeException e) {
            dkernel.close();
            throw e;
        }
    }

    /** dbias: the sum of a channels-last output gradient over everything but its {@code channels} channels. */
    static DeviceTensor biasGradient(OpenClBackend device, DeviceTensor dy, int channels) {
        DeviceTensor dbias = device.allocate(channels);
        try {
            device.biasGradient(dy, dbias);
            return dbias;
        } catch (RuntimeException e) {
            dbias.close();
            throw e;
        }
    }

    /** Refuses a missing operand, operands on two backends, or a cotangent of the wrong shape. */
    static void checkOperands(DeviceTensor x, DeviceTensor dy, int[] outputShape) {
        if (dy == null) {
            throw new IllegalArgumentException("dy: got null; expected the output gradient as a DeviceTensor of shape "
                    + Arrays.toString(outputShape));
        }
        checkOpen("dy", dy);
        if (dy.backend() != x.backend()) {
            throw new IllegalArgumentException("dy: " + dy + " lives on another backend than x (" + x.backend().name()
                    + "); a device backward pass needs both on the same one");
        }
        if (!Arrays.equals(dy.shape(), outputShape)) {
            throw new IllegalArgumentException("dy: shape " + Arrays.toString(dy.shape()) + " differs from the output "
                    + "shape " + Arrays.toString(outputShape) + " this layer gives for input "
                    + Arrays.toString(x.shape()) + "; the output gradient must have the output's shape");
        }
    }

    /** Refuses a missing input. */
    static void checkInput(DeviceTensor x) {
        if (x == null) {
            throw new IllegalArgumentException("x: got null; expected an input DeviceTensor (*batch, *spatial, Cin)");
        }
        checkOpen("x", x);
    }

    /** A closed operand is refused by its name here: the backend's checks know it only by its role there. */
    private static void checkOpen(String what, DeviceTensor tensor) {
        if (tensor.isClosed()) {
            throw new IllegalStateException(what + ": " + tensor + " has been closed (or its backend was) and cannot "
                    + "be used");
        }
    }

    private static DeviceTensor keep(List<DeviceTensor> made, DeviceTensor tensor) {
        made.add(tensor);
        return tensor;
    }
}
