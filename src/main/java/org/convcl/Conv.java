package org.convcl;

import java.util.Arrays;
import org.convcl.backend.Backends;
import org.convcl.backend.ConvBackend;
import org.convcl.opencl.DeviceTensor;
import org.convcl.opencl.OpenClBackend;

/**
 * A convolution layer like flax {@code nnx.Conv}: it holds a kernel {@code (*k, Cin/groups, Cout)}, an
 * optional bias {@code (Cout)} and an optional kernel mask (multiplied into the kernel on every call, as flax
 * does), and applies itself to inputs {@code (*batch, *spatial, Cin)} with zero, one or several batch dims.
 *
 * <p>The kernel, bias and mask tensors are held by reference, so a training loop may update them in place
 * between calls. A Conv is otherwise immutable and thread-safe: {@link #apply}, {@link #backward} and
 * {@link #geometry} may run on many threads at once (each call allocates its own output and working arrays,
 * and the results are bitwise those of the same calls made one after another), as long as nobody writes
 * the parameters meanwhile.
 *
 * <p>On an OpenCL device ({@link #apply(DeviceTensor)}) the layer keeps its (masked) kernel and its bias
 * resident: they are uploaded on the first call on each device (once, under a lock) and reused by every later
 * one. After changing the kernel, bias or mask values in place, call {@link #parametersChanged()} so that the
 * next device call uploads them again. Host-tensor calls ({@link #apply(Tensor)}, {@link #backward(Tensor, Tensor)})
 * always use the current values, also on an OpenCL backend, where they upload them with their operands.
 *
 * <p>Lifetime: a layer is {@link AutoCloseable}. {@link #close()} releases its device copies at once and ends
 * its use (later calls throw {@link IllegalStateException}; a call running meanwhile finishes or is refused);
 * a layer dropped unclosed has its copies released by a cleaner, whenever the garbage collector finds it
 * unreachable. The layer does not own its backend and never closes it.
 */
public final class Conv implements AutoCloseable {
    private final Tensor kernel;
    private final Tensor bias;
    private final Tensor mask;
    private final ConvSpec spec;
    private final ConvBackend backend;
    /**
     * Kernel and bias copies on the OpenCL devices this layer has run on (made on the first device call), and
     * whether the layer is closed: one place, so that a call racing with close() cannot upload new copies.
     */
    private final DeviceParameters.Lazy deviceParameters = new DeviceParameters.Lazy(this);

    private Conv(Builder builder) {
        if (builder.kernel == null) {
            throw new IllegalArgumentException("kernel: got null; a Conv needs a kernel (*k, Cin/groups, Cout)");
        }
        this.kernel = builder.kernel;
        this.bias = builder.bias;
        this.mask = builder.mask;
        this.spec = builder.spec;
        int[] kernelShape = kernel.shape();
        if (kernelShape.length < 3) {
            throw new IllegalArgumentException("kernel: shape " + Arrays.toString(kernelShape) + " has rank "
                    + kernelShape.length + "; a kernel is (*k, Cin/groups, Cout) with at least one spatial dim, "
                    + "so rank >= 3");
        }
        int outChannels = kernelShape[kernelShape.length - 1];
        if (bias != null && (bias.rank() != 1 || bias.dim(0) != outChannels)) {
            throw new IllegalArgumentException("bias: shape " + Arrays.toString(bias.shape()) + " does not match "
                    + outChannels + " output channels; a bias must have shape (Cout) = [" + outChannels + "]");
        }
        if (mask != null && !Arrays.equals(mask.shape(), kernelShape)) {
            throw new IllegalArgumentException("mask: shape " + Arrays.toString(mask.shape())
                    + " differs from the kernel's " + Arrays.toString(kernelShape) + "; they must be equal");
        }
        int rank = kernelShape.length - 2;
        // Refuse what depends on the kernel's rank alone now rather than on the first call.
        spec.checkRank(rank);
        // The default backend is chosen only now, once, and only when the caller named none: choosing it
        // may probe OpenCL devices, which a caller that picked a backend must not pay for.
        this.backend = builder.backend != null ? builder.backend : Backends.defaultBackend();
    }

    /** A builder for a layer with this kernel; defaults are flax's (SAME, stride 1, no bias until given). */
    public static Builder builder(Tensor kernel) {
        return new Builder(kernel);
    }

    public Tensor kernel() {
        return kernel;
    }

    /** The bias, or null when the layer has none. */
    public Tensor bias() {
        return bias;
    }

    /** The kernel mask, or null when the layer has none. */
    public Tensor mask() {
        return mask;
    }

    public ConvSpec spec() {
        return spec;
    }

    public ConvBackend backend() {
        return backend;
    }

    /** The geometry this layer would use for an input of {@code inputShape}, validated. */
    public ConvGeometry geometry(int... inputShape) {
        return spec.resolve(inputShape, kernel.shape());
    }

    /**
     * Applies the layer on the device {@code x} lives on and returns the result there, without a host round
     * trip: {@code conv(x, kernel * mask) + bias} as a new {@link DeviceTensor} that the caller closes. The
     * call enqueues the work and returns; downloading the result waits for it. Kernel and bias are uploaded
     * to that device once and reused (see {@link #parametersChanged()}).
     */
    public DeviceTensor apply(DeviceTensor x) {
        deviceParameters.ensureOpen();
        DeviceTensor y = x.backend().allocate(geometry(x.shape()).outputShape());
        try {
            apply(x, y);
        } catch (RuntimeException e) {
            y.close();
            throw e;
        }
        return y;
    }

    /**
     * Applies the layer on the device {@code x} lives on, writing into {@code out}, a device tensor of the output's
     * shape on the same device that the caller owns: the zero-allocation form of {@link #apply(DeviceTensor)} for
     * loops that reuse their outputs. The call enqueues the work and returns. {@code out} must not be {@code x}.
     */
    public void apply(DeviceTensor x, DeviceTensor out) {
        deviceParameters.ensureOpen();
        ConvGeometry geometry = geometry(x.shape());
        OpenClBackend device = x.backend();
        deviceParameters.get().use(device, () -> Tensor.of(effectiveKernel(), kernel.shape()), bias,
                (deviceKernel, deviceBias) -> device.forward(geometry, x, deviceKernel, deviceBias, out));
    }

    /**
     * Tells the layer that its kernel, bias or mask values were changed in place: the copies it keeps on
     * OpenCL devices are uploaded again on their next use.
     */
    public void parametersChanged() {
        deviceParameters.invalidate();
    }

    /**
     * Releases the kernel and bias copies this layer keeps on OpenCL devices; the layer stays usable and uploads
     * them again on its next device call. To be done with the layer, {@link #close()} it instead.
     */
    public void releaseDeviceParameters() {
        deviceParameters.release();
    }

    /**
     * Releases the kernel and bias copies this layer keeps on OpenCL devices and ends its use: later
     * {@code apply} and {@code backward} calls, on host or device tensors, throw {@link IllegalStateException}.
     * Idempotent; accessors such as {@link #kernel()} and {@link #geometry} still answer. The backend is
     * not closed (the layer does not own it). A layer used only on host tensors holds no device memory, but
     * closing it is still the way to say it is done.
     */
    @Override
    public void close() {
        deviceParameters.close();
    }

    /** Whether {@link #close()} has run. */
    public boolean isClosed() {
        return deviceParameters.isClosed();
    }

    /** The layer in error messages: its type and kernel shape, and whether it has a bias and a mask. */
    @Override
    public String toString() {
        return "Conv(kernel " + Arrays.toString(kernel.shape()) + (bias == null ? "" : ", bias")
                + (mask == null ? "" : ", mask") + ")";
    }

    /** Applies the layer: {@code conv(x, kernel * mask) + bias}. */
    public Tensor apply(Tensor x) {
        deviceParameters.ensureOpen();
        ConvGeometry geometry = geometry(x.shape());
        float[] output = new float[(int) Tensor.elementCount(geometry.outputShape())];
        if (backend instanceof OpenClBackend device) {
            // The kernel and bias stay resident between calls, compared with their current values first (a
            // training loop may update them in place without telling the layer) and uploaded only when changed.
            deviceParameters.get().useCurrent(device, () -> Tensor.of(effectiveKernel(), kernel.shape()), bias,
                    (deviceKernel, deviceBias) -> device.forward(geometry, x.data(), deviceKernel, deviceBias, output));
        } else {
            backend.forward(geometry, x.data(), effectiveKernel(), bias == null ? null : bias.data(), output);
        }
        return Tensor.of(output, geometry.outputShape());
    }

    /**
     * The gradients of {@code sum(apply(x) * dy)} with respect to the input, the kernel and the bias, as jax
     * differentiates flax's {@code nnx.Conv}. {@code dy} must have the output's shape. With a mask, the
     * convolution multiplies by {@code kernel * mask}, so {@code dx} uses the masked kernel and
     * {@code dkernel} is the effective kernel's gradient times the mask.
     *
     * <p>On an OpenCL backend this runs the device pass ({@link #backward(DeviceTensor, DeviceTensor)}'s), with
     * {@code x}, {@code dy} and the parameters' current values uploaded for the call into pooled memory and the
     * gradients downloaded; on the CPU backend it runs on the host arrays themselves.
     */
    public ConvGradients backward(Tensor x, Tensor dy) {
        deviceParameters.ensureOpen();
        ConvBackward.checkInput(x);
        ConvGeometry g = geometry(x.shape());
        ConvBackward.checkCotangent(dy, g.outputShape(), g.inputShape());
        if (backend instanceof OpenClBackend device) {
            // Not the layer's resident copies: host calls use the values as they are now (see the class doc).
            return DeviceBackward.onHost(device, x, dy, Tensor.of(effectiveKernel(), kernel.shape()), bias, mask,
                    (deviceX, deviceDy, parameters) -> DeviceBackward.conv(device, g, deviceX, deviceDy, parameters));
        }
        float[] dx = ConvBackward.inputGradient(backend, g, effectiveKernel(), dy.data());
        float[] dkernel = ConvBackward.kernelGradient(backend, g, x.data(), dy.data());
        float[] dbias = bias == null ? null : ConvBackward.biasGradient(backend, g.outChannels(), dy.data());
        return new ConvGradients(Tensor.of(dx, x.shape()),
                Tensor.of(KernelLayout.masked(dkernel, mask == null ? null : mask.data()), kernel.shape()),
                dbias == null ? null : Tensor.of(dbias, bias.shape()));
    }

    /**
     * The backward pass on the device {@code x} lives on, without a host round trip: the gradients of
     * {@code sum(apply(x) * dy)} as {@link #backward(Tensor, Tensor)} computes them, returned as device tensors
     * that the caller closes. The layer's resident kernel and bias are reused (and its mask kept there for
     * {@code dkernel}); see {@link #parametersChanged()}. The call enqueues the work and returns.
     */
    public DeviceGradients backward(DeviceTensor x, DeviceTensor dy) {
        deviceParameters.ensureOpen();
        DeviceBackward.checkInput(x);
        ConvGeometry g = geometry(x.shape());
        DeviceBackward.checkOperands(x, dy, g.outputShape());
        OpenClBackend device = x.backend();
        return deviceParameters.get().use(device, () -> Tensor.of(effectiveKernel(), kernel.shape()), bias, mask,
                resident -> DeviceBackward.conv(device, g, x, dy, resident));
    }

    /** The kernel as the convolution sees it: masked when a mask is set. */
    public float[] effectiveKernel() {
        if (mask == null) {
            return kernel.data();
        }
        float[] values = kernel.data();
        float[] maskValues = mask.data();
        float[] masked = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            masked[i] = values[i] * maskValues[i];
        }
        return masked;
    }

    /** Collects a layer's parameters and settings. Not thread-safe. */
    public static final class Builder {
        private final Tensor kernel;
        private Tensor bias;
        private Tensor mask;
        private ConvSpec spec = ConvSpec.defaults();
        /** Null until set: {@link Backends#defaultBackend()} is then used. */
        private ConvBackend backend;

        private Builder(Tensor kernel) {
            this.kernel = kernel;
        }

        /** The bias {@code (Cout)}, or null for none. */
        public Builder bias(Tensor bias) {
            this.bias = bias;
            return this;
        }

        /** flax's kernel mask: same shape as the kernel, multiplied into it on every call; null for none. */
        public Builder mask(Tensor mask) {
            this.mask = mask;
            return this;
        }

        public Builder spec(ConvSpec spec) {
            if (spec == null) {
                throw new IllegalArgumentException("spec: got null; expected a ConvSpec");
            }
            this.spec = spec;
            return this;
        }

        public Builder backend(ConvBackend backend) {
            if (backend == null) {
                throw new IllegalArgumentException("backend: got null; expected a ConvBackend");
            }
            this.backend = backend;
            return this;
        }

        public Conv build() {
            return new Conv(this);
        }
    }
}
