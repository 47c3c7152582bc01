package org.convcl.nn;

import java.util.Arrays;
import org.convcl.Layout;
import org.convcl.PoolGeometry;
import org.convcl.PoolOp;
import org.convcl.PoolSpec;
import org.convcl.Tensor;
import org.convcl.backend.ConvBackend;

/**
 * A pooling layer: flax's {@code max_pool}, {@code avg_pool} or {@code min_pool} ({@link PoolOp}) with a
 * {@link PoolSpec}, on inputs {@code (*batch, *spatial, C)} ({@link Layout#CHANNELS_LAST}, flax's) or
 * {@code (*batch, C, *spatial)} ({@link Layout#CHANNELS_FIRST}); any number of batch dims. Global average pooling
 * is {@link PoolOp#AVG} with a window equal to the whole spatial extent.
 *
 * <p>Every backend computes pooling on the host for now ({@link ConvBackend#poolForward}). A layer holds no
 * resources (nothing to close), is immutable and thread-safe; it does not own its backend.
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
