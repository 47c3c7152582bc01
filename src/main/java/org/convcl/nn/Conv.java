package org.convcl.nn;

import org.convcl.Activation;
import org.convcl.DType;
import org.convcl.Tensor;
import org.convcl.Layout;
import org.convcl.ConvSpec;
import org.convcl.ConvGeometry;
import java.util.Arrays;
import org.convcl.backend.ConvBackend;
import org.convcl.opencl.DeviceTensor;
import org.convcl.opencl.OpenClBackend;

/**
 * A convolution layer like flax {@code nnx.Conv}: it holds a kernel {@code (*k, Cin/groups, Cout)}, an
 * optional bias {@code (Cout)} and an optional kernel mask (multiplied into the kernel on every call, as flax
 * does), and applies itself to inputs {@code (*batch, *spatial, Cin)} with zero, one or several batch dims.
 *
 * <p>With {@link Builder#layout layout(Layout.CHANNELS_FIRST)} it takes PyTorch's and ONNX's layout instead: kernel
 * {@code (Cout, Cin/groups, *k)} (OIHW), input {@code (*batch, Cin, *spatial)}, output and gradients likewise
 * channels-first, the kernel gradient in the kernel's layout. It computes channels-last inside and moves the axes
 * at its boundaries: on the host on the Java path, on the device on OpenCL (host-array calls upload the arrays as
 * they are), so the values are those of the channels-last layer on the same data, moved.
 *
 * <p>An epilogue ({@link org.convcl.Epilogue}) runs in the convolution's store, never as a pass of its own:
 * {@code activation(conv * scale[c] + shift[c] + residual)} with per-output-channel {@link Builder#scale scale} and
 * {@link Builder#shift shift} (a batch norm folded for inference), a call's residual of the output's shape
 * ({@code apply(x, residual)}) and an {@link Builder#activation activation}, each optional. Its backward pass
 * ({@code backward(x, residual, dy)}) keeps nothing from the forward: it computes the convolution's output again.
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
 * <p>Half precision ({@link Builder#dtype dtype(DType.FLOAT16)} or {@code BFLOAT16}, issue 26): the device copies of
 * the kernel (masked in float32), bias and mask are rounded to the type once per upload, device calls take and give
 * tensors of the type (dbias float32), and host-tensor calls round their float32 operands to the type, compute as
 * the device does and return the rounded results widened to float32 (the Java path runs the same steps with the
 * same rounding points, forward and backward). Channels-first layout takes the three types alike (its axis moves
 * move 16-bit values as they are).
 *
 * <p>Lifetime: a layer is {@link AutoCloseable}. {@link #close()} releases its device copies at once and ends
 * its use (later calls throw {@link IllegalStateException}; a call running meanwhile finishes or is refused);
 * a layer dropped unclosed has its copies released by a cleaner, whenever the garbage collector finds it
 * unreachable. The layer does not own its backend and never closes it.
 */
public final class Conv implements AutoCloseable {
    private final ConvSpec spec;
    private final Layout layout;
    /** Does the work (shared with {@link ConvTranspose}): parameters, layout moves, residency, device copies. */
    private final LayerCore<ConvGeometry> core;

    private Conv(Builder builder) {
        if (builder.kernel == null) {
            throw new IllegalArgumentException("kernel: got null; a Conv needs a kernel (*k, Cin/groups, Cout)");
        }
        this.spec = builder.spec;
        this.layout = builder.layout;
        int[] kernelShape = builder.kernel.shape();
        boolean first = layout == Layout.CHANNELS_FIRST;
        if (kernelShape.length < 3) {
            throw new IllegalArgumentException("kernel: shape " + Arrays.toString(kernelShape) + " has rank "
                    + kernelShape.length + "; a kernel is " + (first ? "(Cout, Cin/groups, *k) in channels-first "
                    + "layout" : "(*k, Cin/groups, Cout)") + " with at least one spatial dim, so rank >= 3");
        }
        int outChannels = kernelShape[first ? 0 : kernelShape.length - 1];
        LayerChecks.biasAndMask(builder.bias, builder.mask, kernelShape, outChannels);
        EpilogueParameters epilogue = EpilogueParameters.checked(builder.scale, builder.shift, builder.activation,
                outChannels);
        // Refuse what depends on the kernel's rank alone now rather than on the first call.
        spec.checkRank(kernelShape.length - 2);
        this.core = new LayerCore<>(this, "Conv", LayerKind.conv(spec), builder.kernel, builder.bias, builder.mask,
                epilogue, layout, builder.dtype, builder.backend);
        if (builder.fixedParameters) {
            core.fixParameters();
        }
    }

    /** A builder for a layer with this kernel; defaults are flax's (SAME, stride 1, no bias until given). */
    public static Builder builder(Tensor kernel) {
        return new Builder(kernel);
    }

    public Tensor kernel() {
        return core.kernel();
    }

    /** The bias, or null when the layer has none. */
    public Tensor bias() {
        return core.bias();
    }

    /** The kernel mask, or null when the layer has none. */
    public Tensor mask() {
        return core.mask();
    }

    /** The epilogue's per-output-channel factors {@code (Cout)}, or null when the layer has none. */
    public Tensor scale() {
        return core.scale();
    }

    /** The epilogue's per-output-channel offsets {@code (Cout)}, or null when the layer has none. */
    public Tensor shift() {
        return core.shift();
    }

    /** The activation the epilogue applies last ({@link Activation#identity()} unless set). */
    public Activation activation() {
        return core.activation();
    }

    public ConvSpec spec() {
        return spec;
    }

    public ConvBackend backend() {
        return core.backend();
    }

    /**
     * The type the layer computes in: {@link DType#FLOAT32} unless built with {@link Builder#dtype dtype(...)}.
     */
    public DType dtype() {
        return core.dtype();
    }

    /** The layout of the layer's input, output, kernel and gradients. */
    public Layout layout() {
        return layout;
    }

    /**
     * The geometry this layer would use for an input of {@code inputShape} (in the layer's layout), validated: for
     * a channels-first layer, that of the channels-last convolution that runs it (its shapes are channels-last;
     * {@link #outputShape} gives the layer's own).
     */
    public ConvGeometry geometry(int... inputShape) {
        return core.geometry(inputShape);
    }

    /** The shape of the output for an input of {@code inputShape}, both in the layer's layout, validated. */
    public int[] outputShape(int... inputShape) {
        return core.outputShape(inputShape);
    }

    /**
     * Applies the layer on the device {@code x} lives on and returns the result there, without a host round
     * trip: {@code conv(x, kernel * mask) + bias} as a new {@link DeviceTensor} that the caller closes. The
     * call enqueues the work and returns; downloading the result waits for it. Kernel and bias are uploaded
     * to that device once and reused (see {@link #parametersChanged()}).
     */
    public DeviceTensor apply(DeviceTensor x) {
        return core.apply(x, null);
    }

    /**
     * Applies the layer on the device {@code x} lives on, writing into {@code out}, a device tensor of the output's
     * shape on the same device that the caller owns: the zero-allocation form of {@link #apply(DeviceTensor)} for
     * loops that reuse their outputs. The call enqueues the work and returns. {@code out} must not be {@code x}.
     */
    public void apply(DeviceTensor x, DeviceTensor out) {
        core.apply(x, null, out);
    }

    /**
     * {@link #apply(DeviceTensor, DeviceTensor)} with a residual on the same device (null for none), of the output's
     * shape in the layer's layout, added before the activation in the convolution's store; writes into
     * {@code out}, which must not be {@code x} but may be {@code residual} itself (in place: each output element
     * reads its residual before the store writes it). The call enqueues the work and returns.
     * (There is no allocating form with a residual: {@code apply(DeviceTensor, DeviceTensor)} is already the
     * form that writes into {@code out}.)
     */
    public void apply(DeviceTensor x, DeviceTensor residual, DeviceTensor out) {
        core.apply(x, residual, out);
    }

    /**
     * Tells the layer that its kernel, bias or mask values were changed in place: the copies it keeps on
     * OpenCL devices are uploaded again on their next use, and with {@link Builder#fixedParameters fixed
     * parameters} what host calls prepared from the kernel is made again.
     */
    public void parametersChanged() {
        core.parametersChanged();
    }

    /**
     * Uploads the layer's (masked) kernel, bias, scale and shift to {@code device} now, as its first device call
     * there would, and keeps them resident as that call does; nothing when current copies are there already. A
     * network that places every layer's weights before its first batch keeps them out of the buffers its
     * activations give back to the backend's caching allocator during that batch, so that a second batch of the
     * same shape finds every buffer it needs free.
     */
    public void uploadDeviceParameters(OpenClBackend device) {
        core.uploadDeviceParameters(device);
    }

    /**
     * Releases the kernel and bias copies this layer keeps on OpenCL devices; the layer stays usable and uploads
     * them again on its next device call. To be done with the layer, {@link #close()} it instead.
     */
    public void releaseDeviceParameters() {
        core.releaseDeviceParameters();
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
        core.close();
    }

    /** Whether {@link #close()} has run. */
    public boolean isClosed() {
        return core.isClosed();
    }

    /** The layer in error messages: its type and kernel shape, and whether it has a bias and a mask. */
    @Override
    public String toString() {
        return core.toString();
    }

    /** Applies the layer: {@code conv(x, kernel * mask) + bias}. */
    public Tensor apply(Tensor x) {
        return core.apply(x, null);
    }

    /**
     * Applies the layer with a residual: {@code activation(conv * scale + shift + residual)}, the residual added
     * before the activation in the convolution's store (cuDNN's {@code z} input, a ResNet's skip connection).
     * {@code residual} has the output's shape in the layer's layout (channels-first for a channels-first layer);
     * null adds nothing.
     */
    public Tensor apply(Tensor x, Tensor residual) {
        return core.apply(x, residual);
    }

    /**
     * {@link #apply(Tensor, Tensor)} written into {@code out}, a caller-owned tensor of exactly the output's shape
     * in the layer's layout ({@link #outputShape}): the form for loops and networks that reuse their activations
     * (the Java path allocates no output array; a channels-first layer still moves the axes through a scratch
     * array, and on an OpenCL backend the result is downloaded into {@code out}). {@code residual} may be null;
     * {@code out} must not share its array with {@code x}. {@code out} may be {@code residual} itself (the same
     * array, of the output's shape): the result is then as if the residual had been read in full before anything
     * was written, the in-place residual add that spares a network the output's array (on the Java path the 1x1
     * convolutions read each tile's residual just before writing it; other routes copy the residual for the call).
     * Every element of {@code out} is written, whatever it held.
     */
    public void apply(Tensor x, Tensor residual, Tensor out) {
        core.apply(x, residual, out);
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
        return core.backward(x, null, dy);
    }

    /**
     * The gradients of {@code sum(apply(x, residual) * dy)} with respect to the input, the kernel, the bias, the
     * scale, the shift and the residual, as jax differentiates {@code act(conv(x) * scale + shift + residual)}
     * (relu's derivative at 0 is 0, as jax's). {@code residual} may be null (then so is {@code dresidual}); the
     * scale's and shift's gradients are null when the layer has none.
     *
     * <p>Nothing is kept from the forward pass: the convolution's output (bias included) is computed again from
     * {@code x} for the epilogue's derivative, one more forward convolution than a layer without an epilogue pays.
     */
    public ConvGradients backward(Tensor x, Tensor residual, Tensor dy) {
        return core.backward(x, residual, dy);
    }

    /**
     * The backward pass on the device {@code x} lives on, without a host round trip: the gradients of
     * {@code sum(apply(x) * dy)} as {@link #backward(Tensor, Tensor)} computes them, returned as device tensors
     * that the caller closes. The layer's resident kernel and bias are reused (and its mask kept there for
     * {@code dkernel}); see {@link #parametersChanged()}. The call enqueues the work and returns.
     */
    public DeviceGradients backward(DeviceTensor x, DeviceTensor dy) {
        return core.backward(x, null, dy);
    }

    /**
     * The backward pass with a residual (null for none) on the device {@code x} lives on: the gradients of
     * {@code sum(apply(x, residual) * dy)} as {@link #backward(Tensor, Tensor, Tensor)} computes them (recomputing
     * the convolution's output from {@code x}, nothing kept from the forward), as device tensors that the caller
     * closes. The layer's resident parameters (scale and shift among them) are reused. Enqueues and returns.
     */
    public DeviceGradients backward(DeviceTensor x, DeviceTensor residual, DeviceTensor dy) {
        return core.backward(x, residual, dy);
    }

    /** The kernel as the convolution sees it: masked when a mask is set. */
    public float[] effectiveKernel() {
        return core.effectiveKernel();
    }

    /** Collects a layer's parameters and settings. Not thread-safe. */
    public static final class Builder {
        private final Tensor kernel;
        private Tensor bias;
        private Tensor mask;
        private Tensor scale;
        private Tensor shift;
        private Activation activation = Activation.identity();
        private ConvSpec spec = ConvSpec.defaults();
        private Layout layout = Layout.CHANNELS_LAST;
        private DType dtype = DType.FLOAT32;
        /** Null until set: {@link Backends#defaultBackend()} is then used. */
        private ConvBackend backend;
        private boolean fixedParameters;

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
            this.spec = LayerChecks.required("spec", spec, "a ConvSpec");
            return this;
        }

        /**
         * The layout of the kernel, the mask, the inputs, the outputs and the gradients: flax's
         * {@link Layout#CHANNELS_LAST} (the default), or {@link Layout#CHANNELS_FIRST}, in which the kernel is
         * {@code (Cout, Cin/groups, *k)} and inputs are {@code (*batch, Cin, *spatial)}.
         */
        /**
         * The epilogue's per-output-channel factors {@code (Cout)} (a batch norm folded for inference:
         * {@code gamma / sqrt(var + eps)}), multiplied into the convolution's output (bias included) in its store;
         * null for none. Refused at {@link #build()} unless 1-d with one value per output channel.
         */
        public Builder scale(Tensor scale) {
            this.scale = scale;
            return this;
        }

        /**
         * The epilogue's per-output-channel offsets {@code (Cout)} (a folded batch norm's
         * {@code beta - mean * scale}), added after the scale; null for none. Refused at {@link #build()} unless
         * 1-d with one value per output channel.
         */
        public Builder shift(Tensor shift) {
            this.shift = shift;
            return this;
        }

        /**
         * The activation the epilogue applies last, after the scale, the shift and a call's residual
         * ({@link org.convcl.Epilogue}); {@link Activation#identity()} (the default) leaves the sum as it is.
         */
        public Builder activation(Activation activation) {
            this.activation = LayerChecks.required("activation", activation, "an Activation (Activation.identity() "
                    + "for none)");
            return this;
        }

        public Builder layout(Layout layout) {
            this.layout = LayerChecks.required("layout", layout, "Layout.CHANNELS_LAST or Layout.CHANNELS_FIRST");
            return this;
        }

        /**
         * The type the layer computes in (issue 26): {@link DType#FLOAT32} (the default), or {@link DType#FLOAT16}
         * or {@link DType#BFLOAT16}. The layer keeps the float32 parameters it is given and makes its device copies
         * of the kernel (times the mask, in float32), the bias and the mask in this type, rounded to nearest even
         * once per upload; the epilogue's scale and shift stay float32. Its device calls take and give tensors of
         * this type (dbias float32); its host-tensor calls round their operands to it, compute as the device does
         * and return the rounded results as float32 tensors (on the Java path too, forward and backward). Either
         * layout takes every type: {@link Layout#CHANNELS_FIRST} moves 16-bit values as they are.
         */
        public Builder dtype(DType dtype) {
            this.dtype = LayerChecks.required("dtype", dtype, "DType.FLOAT32, FLOAT16 or BFLOAT16");
            return this;
        }

        /**
         * Whether the kernel, bias and mask values stay as they are between {@link Conv#parametersChanged()} calls
         * (default false: they may change in place at any time). Fixed, for inference, host-tensor calls use
         * what the Java path prepared from the kernel (packed panels, Winograd transforms, the kernel moved to
         * channels-last) without comparing it to the kernel's values on every call, as device calls use their
         * resident copies: at batch 1 that comparison reads every weight once more per call, from memory
         * (ResNet-50 on two cores: about a third of the forward). The promise covers the kernel's array: after
         * changing the values in place, call {@link Conv#parametersChanged()} before the next call, which may
         * otherwise compute with the old values.
         */
        public Builder fixedParameters(boolean fixed) {
            this.fixedParameters = fixed;
            return this;
        }

        public Builder backend(ConvBackend backend) {
            this.backend = LayerChecks.required("backend", backend, "a ConvBackend");
            return this;
        }

        public Conv build() {
            return new Conv(this);
        }
    }
}
