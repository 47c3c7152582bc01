package org.convcl.nn;

import org.convcl.Tensor;
import org.convcl.Padding;
import org.convcl.Layout;
import org.convcl.EdgePadding;
import org.convcl.ConvTransposeSpec;
import org.convcl.ConvTransposeGeometry;
import org.convcl.ConvGeometry;
import java.util.Arrays;
import org.convcl.backend.ConvBackend;
import org.convcl.internal.KernelLayout;
import org.convcl.opencl.DeviceTensor;
import org.convcl.opencl.OpenClBackend;

/**
 * A transposed convolution layer like flax {@code nnx.ConvTranspose}: it holds a kernel {@code (*k, Cin, Cout)}
 * (or {@code (*k, Cout, Cin)} with {@link ConvTransposeSpec#transposeKernel}), an optional bias {@code (Cout)}
 * and an optional kernel mask, and maps inputs {@code (*batch, *spatial, Cin)} (zero, one or several batch
 * dims) to {@code (*batch, *outSpatial, Cout)}, upsampling by the strides. It runs as an ordinary convolution
 * on the backend ({@link ConvTransposeGeometry}).
 *
 * <p>With {@link Builder#layout layout(Layout.CHANNELS_FIRST)} it takes PyTorch's layout instead: kernel
 * {@code (Cin, Cout, *k)} (PyTorch's {@code ConvTranspose} weight; there are no feature groups), input
 * {@code (*batch, Cin, *spatial)}, output and gradients likewise channels-first. {@code transposeKernel} keeps
 * its meaning: without it the kernel is used as jax's {@code conv_transpose} uses {@code (*k, Cin, Cout)}; with it,
 * flipped and channel-swapped, which is PyTorch's and ONNX's ConvTranspose arithmetic for that weight. The layer
 * computes channels-last inside and moves the axes at its boundaries (on the device on OpenCL).
 *
 * <p>Parameters are held by reference, so a training loop may update them in place between calls.
 * Otherwise immutable and thread-safe: {@link #apply} and {@link #backward} may run on many threads at once,
 * each with its own output and working arrays, as long as nobody writes the parameters meanwhile.
 *
 * <p>On an OpenCL device ({@link #apply(DeviceTensor)}, {@link #backward(DeviceTensor, DeviceTensor)}) the
 * layer keeps its (masked) kernel, in the layout its convolution multiplies by, and its bias resident, as
 * {@link Conv} does: call {@link #parametersChanged()} after changing them in place. Host-tensor calls always
 * use the current values, also on an OpenCL backend (they upload them with their operands). Its lifetime is
 * {@link Conv}'s too: {@link #close()} releases those copies and ends the layer's use; it never closes the
 * backend.
 */
public final class ConvTranspose implements AutoCloseable {
    private final Tensor kernel;
    private final Tensor bias;
    private final Tensor mask;
    private final ConvTransposeSpec spec;
    private final ConvBackend backend;
    private final Layout layout;
    /** The moves between the user's layout and the engine's; null for a channels-last layer, which needs none. */
    private final ChannelsFirst channelsFirst;
    /**
     * Kernel and bias copies on the OpenCL devices this layer has run on (made on the first device call), and
     * whether the layer is closed: one place, so that a call racing with close() cannot upload new copies. Its
     * kernel copies are in the layout the convolution multiplies by, whatever the layer's.
     */
    private final DeviceParameters.Lazy deviceParameters;

    private ConvTranspose(Builder builder) {
        if (builder.kernel == null) {
            throw new IllegalArgumentException("kernel: got null; a ConvTranspose needs a kernel (*k, Cin, Cout)");
        }
        this.kernel = builder.kernel;
        this.bias = builder.bias;
        this.mask = builder.mask;
        this.spec = builder.spec;
        this.layout = builder.layout;
        int[] kernelShape = kernel.shape();
        boolean first = layout == Layout.CHANNELS_FIRST;
        if (kernelShape.length < 3) {
            throw new IllegalArgumentException("kernel: shape " + Arrays.toString(kernelShape) + " has rank "
                    + kernelShape.length + "; a ConvTranspose kernel is " + (first ? "(Cin, Cout, *k) in "
                    + "channels-first layout" : "(*k, Cin, Cout)") + " with at least one spatial dim, so rank >= 3");
        }
        int rank = kernelShape.length - 2;
        int outChannels = kernelShape[first ? 1 : spec.transposeKernel() ? rank : rank + 1];
        if (bias != null && (bias.rank() != 1 || bias.dim(0) != outChannels)) {
            throw new IllegalArgumentException("bias: shape " + Arrays.toString(bias.shape()) + " does not match "
                    + outChannels + " output channels; a bias must have shape (Cout) = [" + outChannels + "]");
        }
        if (mask != null && !Arrays.equals(mask.shape(), kernelShape)) {
            throw new IllegalArgumentException("mask: shape " + Arrays.toString(mask.shape())
                    + " differs from the kernel's " + Arrays.toString(kernelShape) + "; they must be equal");
        }
        // Refuse what no input can fix now rather than on the first call: rank, per-dim lengths, paddings.
        ConvTransposeGeometry.checkMaxRank(kernelShape);
        spec.checkRank(rank);
        if (spec.padding() == Padding.REFLECT || spec.padding() == Padding.CAUSAL) {
            throw new IllegalArgumentException("padding: " + spec.padding() + " is not a ConvTranspose padding; "
                    + "nnx.ConvTranspose takes SAME, VALID, CIRCULAR, an int or (lo, hi) pairs (jax refuses "
                    + spec.padding() + " in conv_transpose)");
        }
        this.channelsFirst = first ? ChannelsFirst.forConvTranspose(kernelShape, spec.transposeKernel()) : null;
        this.deviceParameters = first ? new DeviceParameters.Lazy(this, channelsFirst.arrangements())
                : new DeviceParameters.Lazy(this);
        // The default backend is chosen only now, once, and only when the caller named none (as in Conv):
        // choosing it may probe OpenCL devices, which a caller that picked a backend must not pay for.
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

    public ConvTransposeSpec spec() {
        return spec;
    }

    public ConvBackend backend() {
        return backend;
    }

    /** The layout of the layer's input, output, kernel and gradients. */
    public Layout layout() {
        return layout;
    }

    /**
     * The geometry this layer would use for an input of {@code inputShape} (in the layer's layout), validated: for
     * a channels-first layer, that of the channels-last transposed convolution that runs it (its shapes are
     * channels-last; {@link #outputShape} gives the layer's own).
     */
    public ConvTransposeGeometry geometry(int... inputShape) {
        if (channelsFirst != null) {
            int[] internal = channelsFirst.internalInputShape(inputShape, 1);
            return channelsFirst.resolve(inputShape, internal, spec::resolve);
        }
        return spec.resolve(inputShape, kernel.shape());
    }

    /** The shape of the output for an input of {@code inputShape}, both in the layer's layout, validated. */
    public int[] outputShape(int... inputShape) {
        return userShape(geometry(inputShape).outputShape());
    }

    /** Applies the layer: {@code conv_transpose(x, kernel * mask)} (CIRCULAR: wrapped onto the period) {@code + bias}. */
    public Tensor apply(Tensor x) {
        deviceParameters.ensureOpen();
        ConvBackward.checkInput(x);
        ConvTransposeGeometry g = geometry(x.shape());
        if (channelsFirst != null && backend instanceof OpenClBackend device) {
            // Uploaded as it is, its axes moved on the device, and the output's moved back there.
            Tensor[] result = new Tensor[1];
            deviceParameters.get().useCurrent(device, this::residentKernel, bias, (deviceKernel, deviceBias) -> {
                try (DeviceTensor deviceX = device.upload(x);
                        DeviceTensor y = device.allocate(userShape(g.outputShape()))) {
                    forward(device, g, deviceX, deviceKernel, deviceBias, y);
                    result[0] = y.download();
                }
            });
            return result[0];
        }
        float[] input = channelsFirst == null ? x.data() : channelsFirst.toInternal(x.data(), x.shape());
        float[] biasValues = bias == null ? null : bias.data();
        float[] output = new float[(int) Tensor.elementCount(g.outputShape())];
        EdgePadding fold = g.circularFold();
        if (fold == null && backend instanceof OpenClBackend device) {
            // Resident parameters, compared with the current values and uploaded again only when they changed.
            deviceParameters.get().useCurrent(device, this::residentKernel, bias, (deviceKernel, deviceBias) ->
                    device.forward(g.conv(), x.data(), deviceKernel, deviceBias, output));
            return Tensor.of(output, g.outputShape());
        }
        float[] convKernel = g.convKernel(heldKernel());
        if (fold == null) {
            backend.forward(g.conv(), input, convKernel, biasValues, output);
        } else {
            float[] unwrapped = new float[(int) Tensor.elementCount(g.conv().outputShape())];
            backend.forward(g.conv(), input, convKernel, null, unwrapped);
            backend.fold(fold, unwrapped, biasValues, output);
        }
        return channelsFirst == null ? Tensor.of(output, g.outputShape())
                : channelsFirst.toUser(output, g.outputShape());
    }

    /**
     * The gradients of {@code sum(apply(x) * dy)} with respect to the input, the kernel (in the layout the
     * layer holds it, masked like it) and the bias; {@code dy} must have the output's shape. The transposed
     * convolution is linear in x, so dx is the input gradient of the convolution that runs it, fed with
     * {@code dy} unwrapped back to the VALID length for CIRCULAR padding ({@link ConvBackend#pad}, the
     * adjoint of the wrap-sum).
     *
     * <p>On an OpenCL backend this runs the device pass ({@link #backward(DeviceTensor, DeviceTensor)}'s), with
     * {@code x}, {@code dy} and the parameters' current values uploaded for the call into pooled memory and the
     * gradients downloaded; on the CPU backend it runs on the host arrays themselves.
     */
    public ConvGradients backward(Tensor x, Tensor dy) {
        deviceParameters.ensureOpen();
        ConvBackward.checkInput(x);
        ConvTransposeGeometry g = geometry(x.shape());
        ConvBackward.checkCotangent(dy, userShape(g.outputShape()), x.shape());
        if (backend instanceof OpenClBackend device) {
            // Not the layer's resident copies: host calls use the values as they are now (see the class doc).
            return DeviceBackward.onHost(device, x, dy, residentKernel(), bias, mask, arrangements(),
                    (deviceX, deviceDy, parameters) -> deviceBackward(device, g, deviceX, deviceDy, parameters));
        }
        float[] xValues = channelsFirst == null ? x.data() : channelsFirst.toInternal(x.data(), x.shape());
        float[] dyValues = channelsFirst == null ? dy.data() : channelsFirst.toInternal(dy.data(), dy.shape());
        ConvGeometry conv = g.conv();
        float[] convGradient = dyValues;
        if (g.circularFold() != null) {
            convGradient = new float[(int) Tensor.elementCount(conv.outputShape())];
            backend.pad(g.circularFold(), dyValues, convGradient);
        }
        float[] dx = ConvBackward.inputGradient(backend, conv, g.convKernel(heldKernel()), convGradient);
        float[] dkernel = ConvBackward.kernelGradient(backend, conv, xValues, convGradient);
        if (g.transposeKernel()) {
            // Back from the convolution's layout to the held one: flipSwap is its own inverse.
            dkernel = KernelLayout.flipSwap(dkernel, conv.kernelShape(), 1);
        }
        float[] dbias = bias == null ? null : ConvBackward.biasGradient(backend, conv.outChannels(), dyValues);
        Tensor dxTensor = Tensor.of(dx, g.inputShape());
        if (channelsFirst != null) {
            dxTensor = channelsFirst.toUser(dx, g.inputShape());
            dkernel = channelsFirst.kernelToUser(dkernel);
        }
        return new ConvGradients(dxTensor,
                Tensor.of(KernelLayout.masked(dkernel, mask == null ? null : mask.data()), kernel.shape()),
                dbias == null ? null : Tensor.of(dbias, bias.shape()));
    }

    /** The transposed convolution on device tensors in the layer's layout, with the resident parameters. */
    private void forward(OpenClBackend device, ConvTransposeGeometry g, DeviceTensor x, DeviceTensor deviceKernel,
            DeviceTensor deviceBias, DeviceTensor out) {
        if (channelsFirst == null) {
            forwardChannelsLast(device, g, x, deviceKernel, deviceBias, out);
        } else {
            channelsFirst.run(device, x, out, g.outputShape(), (internalX, internalOut) ->
                    forwardChannelsLast(device, g, internalX, deviceKernel, deviceBias, internalOut));
        }
    }

    private static void forwardChannelsLast(OpenClBackend device, ConvTransposeGeometry g, DeviceTensor x,
            DeviceTensor deviceKernel, DeviceTensor deviceBias, DeviceTensor out) {
        EdgePadding fold = g.circularFold();
        if (fold == null) {
            device.forward(g.conv(), x, deviceKernel, deviceBias, out);
            return;
        }
        if (!Arrays.equals(out.shape(), g.outputShape())) {
            throw new IllegalArgumentException("output: shape " + Arrays.toString(out.shape())
                    + " does not match the layer's output " + Arrays.toString(g.outputShape()));
        }
        try (DeviceTensor unwrapped = device.allocate(g.conv().outputShape())) {
            device.forward(g.conv(), x, deviceKernel, null, unwrapped);
            device.fold(fold, unwrapped, deviceBias, out);
        }
    }

    /** The device backward pass on tensors in the layer's layout, with the parameters resident there. */
    private DeviceGradients deviceBackward(OpenClBackend device, ConvTransposeGeometry g, DeviceTensor x,
            DeviceTensor dy, DeviceParameters.Resident parameters) {
        if (channelsFirst == null) {
            return DeviceBackward.convTranspose(device, g, x, dy, parameters);
        }
        return channelsFirst.backward(device, x, dy,
                (internalX, internalDy) -> DeviceBackward.convTranspose(device, g, internalX, internalDy, parameters));
    }

    /** How the layer's kernel and mask become its device copies: as uploaded, or moved (and flipped) there. */
    private DeviceParameters.Arrangements arrangements() {
        return channelsFirst == null ? DeviceParameters.Arrangements.AS_UPLOADED : channelsFirst.arrangements();
    }

    /** A channels-last shape of the engine's as the layer's layout has it. */
    private int[] userShape(int[] internalShape) {
        return channelsFirst == null ? internalShape : channelsFirst.userShape(internalShape);
    }

    /** The masked kernel in the channels-last layout the layer's geometry holds it in, on the host. */
    private float[] heldKernel() {
        return channelsFirst == null ? effectiveKernel() : channelsFirst.kernelToInternal(effectiveKernel());
    }

    /**
     * Applies the layer on the device {@code x} lives on and returns the result there, without a host round
     * trip, as a new {@link DeviceTensor} that the caller closes. Kernel and bias are uploaded to that device
     * once and reused (see {@link #parametersChanged()}). The call enqueues the work and returns.
     */
    public DeviceTensor apply(DeviceTensor x) {
        deviceParameters.ensureOpen();
        DeviceBackward.checkInput(x);
        DeviceTensor y = x.backend().allocate(outputShape(x.shape()));
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
     * shape on the same device that the caller owns: the zero-allocation form of {@link #apply(DeviceTensor)}.
     * The call enqueues the work and returns. {@code out} must not be {@code x}.
     */
    public void apply(DeviceTensor x, DeviceTensor out) {
        deviceParameters.ensureOpen();
        DeviceBackward.checkInput(x);
        ConvTransposeGeometry g = geometry(x.shape());
        OpenClBackend device = x.backend();
        deviceParameters.get().use(device, this::residentKernel, bias, (deviceKernel, deviceBias) ->
                forward(device, g, x, deviceKernel, deviceBias, out));
    }

    /**
     * The backward pass on the device {@code x} lives on, without a host round trip: the gradients of
     * {@code sum(apply(x) * dy)} as {@link #backward(Tensor, Tensor)} computes them, as device tensors that the
     * caller closes. Reuses the layer's resident kernel and bias. The call enqueues the work and returns.
     */
    public DeviceGradients backward(DeviceTensor x, DeviceTensor dy) {
        deviceParameters.ensureOpen();
        DeviceBackward.checkInput(x);
        ConvTransposeGeometry g = geometry(x.shape());
        DeviceBackward.checkOperands(x, dy, userShape(g.outputShape()));
        OpenClBackend device = x.backend();
        return deviceParameters.get().use(device, this::residentKernel, bias, mask,
                resident -> deviceBackward(device, g, x, dy, resident));
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
        return "ConvTranspose(kernel " + Arrays.toString(kernel.shape()) + (bias == null ? "" : ", bias")
                + (mask == null ? "" : ", mask") + (channelsFirst == null ? "" : ", channels-first") + ")";
    }

    /**
     * The masked kernel in the layout the convolution multiplies by: what a device keeps, rearranged once per
     * upload, and what a host-tensor backward pass uploads for its call. A channels-first layer uploads it as
     * held and rearranges it on the device ({@link ChannelsFirst#arrangements}).
     */
    private Tensor residentKernel() {
        if (channelsFirst != null) {
            return Tensor.of(effectiveKernel(), kernel.shape());
        }
        float[] convKernel = effectiveKernel();
        int[] shape = kernel.shape();
        if (spec.transposeKernel()) {
            convKernel = KernelLayout.flipSwap(convKernel, shape, 1);
            shape = KernelLayout.flipSwapShape(shape, 1);
        }
        return Tensor.of(convKernel, shape);
    }

    /** The kernel as held, times the mask when one is set. */
    public float[] effectiveKernel() {
        return KernelLayout.masked(kernel.data(), mask == null ? null : mask.data());
    }

    /** Collects a layer's parameters and settings. Not thread-safe. */
    public static final class Builder {
        private final Tensor kernel;
        private Tensor bias;
        private Tensor mask;
        private ConvTransposeSpec spec = ConvTransposeSpec.defaults();
        private Layout layout = Layout.CHANNELS_LAST;
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

        /** flax's kernel mask: the kernel's shape, multiplied into it on every call; null for none. */
        public Builder mask(Tensor mask) {
            this.mask = mask;
            return this;
        }

        public Builder spec(ConvTransposeSpec spec) {
            if (spec == null) {
                throw new IllegalArgumentException("spec: got null; expected a ConvTransposeSpec");
            }
            this.spec = spec;
            return this;
        }

        /**
         * The layout of the kernel, the mask, the inputs, the outputs and the gradients: flax's
         * {@link Layout#CHANNELS_LAST} (the default), or {@link Layout#CHANNELS_FIRST}, in which the kernel is
         * PyTorch's {@code (Cin, Cout, *k)} (with or without transposeKernel) and inputs are
         * {@code (*batch, Cin, *spatial)}.
         */
        public Builder layout(Layout layout) {
            if (layout == null) {
                throw new IllegalArgumentException("layout: got null; expected Layout.CHANNELS_LAST or "
                        + "Layout.CHANNELS_FIRST");
            }
            this.layout = layout;
            return this;
        }

        public Builder backend(ConvBackend backend) {
            if (backend == null) {
                throw new IllegalArgumentException("backend: got null; expected a ConvBackend");
            }
            this.backend = backend;
            return this;
        }

        public ConvTranspose build() {
            return new ConvTranspose(this);
        }
    }
}
