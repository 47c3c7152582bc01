package org.convcl.nn;

import java.util.Arrays;
import org.convcl.DType;
import org.convcl.Layout;
import org.convcl.PoolGeometry;
import org.convcl.PoolOp;
import org.convcl.PoolSpec;
import org.convcl.Tensor;
import org.convcl.backend.ConvBackend;
import org.convcl.opencl.DeviceTensor;
import org.convcl.opencl.OpenClBackend;

/**
 * A pooling layer: flax's {@code max_pool}, {@code avg_pool} or {@code min_pool} ({@link PoolOp}) with a
 * {@link PoolSpec}, on inputs {@code (*batch, *spatial, C)} ({@link Layout#CHANNELS_LAST}, flax's) or
 * {@code (*batch, C, *spatial)} ({@link Layout#CHANNELS_FIRST}); any number of batch dims. Global average pooling
 * is {@link PoolOp#AVG} with a window equal to the whole spatial extent.
 *
 * <p>Host tensors run on the layer's backend ({@link ConvBackend#poolForward}: in kernels on an OpenCL backend, on
 * the host otherwise). Device tensors ({@link #apply(DeviceTensor)}) stay on the device they live on, whatever the
 * layer's backend; a channels-first layout is moved to channels-last and back there by kernels. Having no
 * parameters, a layer pools device tensors of any {@link DType} in either layout, computing in float32 and giving
 * its output and gradient in the input's type (issue 26; a channels-first tensor's axes move as its bits). A layer
 * holds no resources (nothing to close), is immutable and thread-safe; it does not own its backend.
 */
public final class Pool {
    private final PoolOp op;
    private final PoolSpec spec;
    private final Layout layout;
    /** The moves between the layout's activations and the engines' channels-last order. */
    private final ChannelAxes axes;
    private final ConvBackend backend;

    private Pool(Builder builder) {
        this.op = builder.op;
        this.spec = builder.spec;
        this.layout = builder.layout;
        this.axes = ChannelAxes.of(layout, spec.rank());
        this.backend = builder.backend == null ? Backends.defaultBackend() : builder.backend;
    }

    /** A builder for a pooling {@code op} with {@code spec}; channels-last on the default backend unless set. */
    public static Builder builder(PoolOp op, PoolSpec spec) {
        return new Builder(LayerChecks.required("op", op, "PoolOp.MAX, AVG or MIN"),
                LayerChecks.required("spec", spec, "a PoolSpec (PoolSpec.builder().window(...).build())"));
    }

    public PoolOp op() {
        return op;
    }

    public PoolSpec spec() {
        return spec;
    }

    public Layout layout() {
        return layout;
    }

    public ConvBackend backend() {
        return backend;
    }

    /** The output's shape for an input of {@code inputShape}, both in this layer's layout. */
    public int[] outputShape(int... inputShape) {
        return axes.toUser(geometry(inputShape).outputShape());
    }

    /** The pooling of {@code x}, in this layer's layout. */
    public Tensor apply(Tensor x) {
        LayerChecks.input(x);
        PoolGeometry g = geometry(x.shape());
        float[] output = new float[(int) Tensor.elementCount(g.outputShape())];
        backend.poolForward(op, g, axes.valuesToChannelsLast(x.data(), x.shape()), output);
        return Tensor.of(axes.valuesToUser(output, g.outputShape()), axes.toUser(g.outputShape()));
    }

    /**
     * The pooling of {@code x} written into {@code out}, a caller-owned tensor of exactly the output's shape in this
     * layer's layout ({@link #outputShape}), whose array must not be x's: channels-last allocates no output array;
     * channels-first moves the axes through scratch arrays. Every element of {@code out} is written.
     */
    public void apply(Tensor x, Tensor out) {
        LayerChecks.input(x);
        PoolGeometry g = geometry(x.shape());
        LayerChecks.output(out, axes.toUser(g.outputShape()), x, null);
        if (layout == Layout.CHANNELS_LAST) {
            backend.poolForward(op, g, x.data(), out.data());
            return;
        }
        float[] output = new float[out.size()];
        backend.poolForward(op, g, axes.valuesToChannelsLast(x.data(), x.shape()), output);
        System.arraycopy(axes.valuesToUser(output, g.outputShape()), 0, out.data(), 0, output.length);
    }

    /**
     * The gradient of {@code sum(apply(x) * dy)} with respect to {@code x} (x's shape), as jax computes it;
     * {@link PoolGeometry} says which element of a window a MAX or MIN gradient goes to.
     */
    public Tensor backward(Tensor x, Tensor dy) {
        LayerChecks.input(x);
        PoolGeometry g = geometry(x.shape());
        LayerChecks.cotangent(dy, axes.toUser(g.outputShape()), x.shape());
        float[] inputGradient = new float[x.size()];
        backend.poolBackward(op, g, axes.valuesToChannelsLast(x.data(), x.shape()),
                axes.valuesToChannelsLast(dy.data(), dy.shape()), inputGradient);
        return Tensor.of(axes.valuesToUser(inputGradient, g.inputShape()), x.shape());
    }

    /**
     * The pooling of {@code x} on the device it lives on, as a new device tensor (this layer's layout) that the
     * caller closes. Enqueues the work and returns; downloading the result waits for it.
     */
    public DeviceTensor apply(DeviceTensor x) {
        LayerChecks.input(x);
        DeviceTensor out = DeviceTensor.allocate(x.backend(), x.dtype(), outputShape(x.shape()));
        try {
            apply(x, out);
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
        return out;
    }

    /**
     * The pooling of {@code x} into {@code out}, a device tensor of the output's shape (this layer's layout) on
     * the same device, which the caller owns; {@code out} must not be {@code x}. Enqueues the work and returns.
     */
    public void apply(DeviceTensor x, DeviceTensor out) {
        LayerChecks.input(x);
        PoolGeometry g = geometry(x.shape());
        OpenClBackend device = x.backend();
        if (layout == Layout.CHANNELS_LAST) {
            device.poolForward(op, g, x, out);
            return;
        }
        int[] outputShape = axes.toUser(g.outputShape());
        if (out == null || !Arrays.equals(out.shape(), outputShape)) {
            throw new IllegalArgumentException("output: " + (out == null ? "got null" : "shape "
                    + Arrays.toString(out.shape())) + "; the layer's channels-first output for input "
                    + Arrays.toString(x.shape()) + " is " + Arrays.toString(outputShape));
        }
        if (out == x) {
            throw new IllegalArgumentException("output: " + out + " is also the input; a layer cannot write over "
                    + "its own input");
        }
        // Refused here, in the layer's terms, rather than by the transpose that would move the output back.
        if (out.dtype() != x.dtype()) {
            throw new IllegalArgumentException("output: " + out + " holds " + out.dtype().cliName() + " but x holds "
                    + x.dtype().cliName() + "; " + this + " pools in x's type, so its output must hold it too");
        }
        DeviceAxes moves = new DeviceAxes(device, (ChannelAxes.First) axes);
        try (DeviceTensor internalX = moves.toChannelsLast(x);
                DeviceTensor internalOut = DeviceTensor.allocate(device, x.dtype(), g.outputShape())) {
            device.poolForward(op, g, internalX, internalOut);
            moves.toUser(internalOut, out);
        }
    }

    /**
     * The gradient of {@code sum(apply(x) * dy)} with respect to {@code x} on the device both live on, as
     * {@link #backward(Tensor, Tensor)} computes it: a new device tensor of x's shape that the caller closes.
     * Enqueues the work and returns.
     */
    public DeviceTensor backward(DeviceTensor x, DeviceTensor dy) {
        LayerChecks.input(x);
        PoolGeometry g = geometry(x.shape());
        LayerChecks.sameDType(x, dy, this);
        LayerChecks.cotangent(x, dy, axes.toUser(g.outputShape()), x.dtype(), this);
        OpenClBackend device = x.backend();
        DeviceTensor dx = DeviceTensor.allocate(device, x.dtype(), x.shape());
        try {
            if (layout == Layout.CHANNELS_LAST) {
                device.poolBackward(op, g, x, dy, dx);
            } else {
                DeviceAxes moves = new DeviceAxes(device, (ChannelAxes.First) axes);
                try (DeviceTensor internalX = moves.toChannelsLast(x);
                        DeviceTensor internalDy = moves.toChannelsLast(dy);
                        DeviceTensor internalDx = DeviceTensor.allocate(device, x.dtype(), g.inputShape())) {
                    device.poolBackward(op, g, internalX, internalDy, internalDx);
                    moves.toUser(internalDx, dx);
                }
            }
            return dx;
        } catch (RuntimeException e) {
            dx.close();
            throw e;
        }
    }

    /** The channels-first moves of activations on a device: {@code (B, C, S)} and {@code (B, S, C)}. */
    private record DeviceAxes(OpenClBackend device, ChannelAxes.First axes) {
        /** {@code x} (channels-first) in a new channels-last tensor, which the caller closes. */
        DeviceTensor toChannelsLast(DeviceTensor x) {
            return axes.moves(x.shape()).apply(device, x, axes.toChannelsLast(x.shape()));
        }

        /** A channels-last tensor moved into {@code target}, of its channels-first shape. */
        void toUser(DeviceTensor internal, DeviceTensor target) {
            axes.moves(target.shape()).inverse().apply(device, internal, target);
        }
    }

    /** The geometry of an input given in this layer's layout (resolved channels-last). */
    private PoolGeometry geometry(int[] inputShape) {
        if (inputShape == null) {
            throw new IllegalArgumentException("inputShape: got null; expected the input's dims");
        }
        if (layout == Layout.CHANNELS_LAST) {
            return spec.resolve(inputShape);
        }
        int rank = spec.rank();
        if (inputShape.length < rank + 1) {
            throw new IllegalArgumentException("input: shape " + Arrays.toString(inputShape) + " has rank "
                    + inputShape.length + " but a " + rank + "-d window needs (*batch, C, *spatial) with rank >= "
                    + (rank + 1));
        }
        return spec.resolve(axes.toChannelsLast(inputShape));
    }

    @Override
    public String toString() {
        return "Pool{" + op + ", " + spec + ", " + layout + ", " + backend.name() + "}";
    }

    /** Collects settings; validated as they are set. Not thread-safe. */
    public static final class Builder {
        private final PoolOp op;
        private final PoolSpec spec;
        private Layout layout = Layout.CHANNELS_LAST;
        private ConvBackend backend;

        private Builder(PoolOp op, PoolSpec spec) {
            this.op = op;
            this.spec = spec;
        }

        /** {@link Layout#CHANNELS_LAST} (flax's, the default) or {@link Layout#CHANNELS_FIRST}. */
        public Builder layout(Layout layout) {
            this.layout = LayerChecks.required("layout", layout, "Layout.CHANNELS_LAST or Layout.CHANNELS_FIRST");
            return this;
        }

        /** Where the pooling runs; the default backend ({@link Backends#defaultBackend()}) unless set. */
        public Builder backend(ConvBackend backend) {
            this.backend = LayerChecks.required("backend", backend, "a ConvBackend");
            return this;
        }

        public Pool build() {
            return new Pool(this);
        }
    }
}
