package org.convcl.backend.cpu.internal;

import org.convcl.Activation;
import org.convcl.Epilogue;
import org.convcl.backend.internal.HostEpilogue;

/**
 * A call's {@link Epilogue} bound to its output, applied by the task that writes a range of it: the Java path's
 * fused store. For the piecewise-linear activations (identity, relu, relu6, leaky_relu) the vector kernels apply it
 * in their stores, to each register block's positions right after storing them, while they are in the first-level
 * cache ({@link #appliesInStores}, {@code VectorStoreEpilogue}); otherwise, and on the plain loops, the task hands
 * the range it has just written (a row segment, a Winograd block's outputs) to {@link #apply}. Both give {@link HostEpilogue#apply}'s bits: the same float32 operations in the same
 * order, so the fused result equals the plain call followed by the epilogue.
 *
 * <p>Immutable; tasks on different threads apply it to disjoint ranges.
 */
public final class StoreEpilogue {
    private static final EpilogueKernel KERNEL = CpuKernels.epilogue();

    /** {@link #storeActivation}: the sum as it is. */
    static final int IDENTITY = 0;
    /** {@link #storeActivation}: {@code min(max(v, lower), upper)}, which is relu and relu6. */
    static final int CLAMP = 1;
    /** {@link #storeActivation}: {@code v >= 0 ? v : slope * v}. */
    static final int LEAKY = 2;
    /**
     * {@link #storeActivation}: {@code max(v, 0)}, relu: the clamp without its {@code min(v, +Inf)}, which leaves
     * every value as it is (NaN too), so the same bits for one operation less per vector.
     */
    static final int RELU = 3;

    private final Epilogue<float[]> epilogue;
    private final int channels;
    private final float[] output;

    // The parts, read by the vector kernels' stores.
    final float[] scale;
    final float[] shift;
    final float[] residual;
    /**
     * Where output element {@code i}'s residual lies: {@code residual[i - residualBase]}. 0 but in a tile's own
     * view ({@link #overTileResidual}), whose residual is a copy of the tile's rows starting at its first.
     */
    final int residualBase;
    /**
     * How the stores activate: {@link #IDENTITY}, {@link #RELU}, {@link #CLAMP} or {@link #LEAKY}; -1 when they
     * cannot.
     */
    final int storeActivation;
    /** The clamp's bounds: relu's upper bound is +Inf, which {@code Math.min} leaves every value (NaN too) below. */
    final float lower;
    final float upper;
    final float slope;

    private StoreEpilogue(Epilogue<float[]> epilogue, int channels, float[] output) {
        this(epilogue, channels, output, epilogue.residual(), 0);
    }

    private StoreEpilogue(Epilogue<float[]> epilogue, int channels, float[] output, float[] residual,
            int residualBase) {
        this.epilogue = epilogue;
        this.channels = channels;
        this.output = output;
        this.scale = epilogue.scale();
        this.shift = epilogue.shift();
        this.residual = residual;
        this.residualBase = residualBase;
        Activation activation = epilogue.activation();
        this.slope = activation.parameter();
        switch (activation.kind()) {
            case IDENTITY:
                storeActivation = IDENTITY;
                lower = Float.NEGATIVE_INFINITY;
                upper = Float.POSITIVE_INFINITY;
                break;
            case RELU:
                storeActivation = RELU;
                lower = 0f;
                upper = Float.POSITIVE_INFINITY;
                break;
            case RELU6:
                storeActivation = CLAMP;
                lower = 0f;
                upper = 6f;
                break;
            case LEAKY_RELU:
                storeActivation = LEAKY;
                lower = Float.NEGATIVE_INFINITY;
                upper = Float.POSITIVE_INFINITY;
                break;
            default:
                // Transcendental functions, whose cost dominates anyway: applied after the store, by HostEpilogue.
                storeActivation = -1;
                lower = Float.NEGATIVE_INFINITY;
                upper = Float.POSITIVE_INFINITY;
        }
    }

    /**
     * The store for {@code epilogue} over {@code output} (channels-last, {@code channels} channels), or null when
     * the epilogue leaves the output as it is: the plain call then pays nothing per block.
     */
    public static StoreEpilogue of(Epilogue<float[]> epilogue, int channels, float[] output) {
        return epilogue == null || epilogue.isNone() ? null : new StoreEpilogue(epilogue, channels, output);
    }

    /**
     * Whether the residual is the output itself (the in-place residual add): a store that writes sums before it
     * adds the residual must then read the residual first ({@link #overTileResidual}).
     */
    public boolean residualIsOutput() {
        return residual != null && residual == output;
    }

    /**
     * This epilogue with its residual read from a copy of the output as it is now, for a call whose residual is
     * the output and whose route stores sums before it reads the residual back.
     */
    public StoreEpilogue overResidualCopy() {
        return new StoreEpilogue(epilogue.withResidual(output.clone()), channels, output);
    }

    /**
     * This epilogue for one task's tile with the residual read from {@code tileResidual} instead, where element
     * {@code i} of the output finds its residual at {@code tileResidual[i - base]}: the task copies its tile's
     * residual there before its first store, so an in-place residual survives the sums stored over it. Only for
     * the stores' own application ({@link #appliesInStores}); {@link #apply} still reads the call's residual.
     */
    StoreEpilogue overTileResidual(float[] tileResidual, int base) {
        return new StoreEpilogue(epilogue, channels, output, tileResidual, base);
    }

    /**
     * Whether a vector kernel applies this epilogue in its stores, position by position (with
     * {@code VectorStoreEpilogue}), instead of its caller calling {@link #apply} over the whole range afterwards:
     * true for the piecewise-linear activations.
     */
    public boolean appliesInStores() {
        return storeActivation >= 0;
    }

    /**
     * The epilogue of the value at {@code output[index]}, of channel {@code channel}: the channels after a
     * kernel's last whole vector, when {@link #appliesInStores}. The operations of {@link HostEpilogue#apply}
     * in its order, and the activation's own {@link Activation#apply}, so the same bits.
     */
    public float applyTo(float value, int channel, int index) {
        float v = value;
        if (scale != null) {
            v *= scale[channel];
        }
        if (shift != null) {
            v += shift[channel];
        }
        if (residual != null) {
            v += residual[index - residualBase];
        }
        return epilogue.activation().apply(v);
    }

    /** Applies the epilogue to {@code output[from, to)}, just written by the calling task. */
    public void apply(int from, int to) {
        KERNEL.apply(this, from, to);
    }

    Epilogue<float[]> epilogue() {
        return epilogue;
    }

    int channels() {
        return channels;
    }

    float[] output() {
        return output;
    }

    /** Applies the epilogue to the {@code channels} values of the output position whose channel 0 is at {@code base}. */
    public void applyPosition(int base) {
        apply(base, base + channels);
    }

    /**
     * A consumer of output positions (flat, in units of whole positions) for one task, which applies the epilogue
     * to each maximal run of consecutive positions at once: a Winograd block lists its outputs tile by tile, two or
     * more neighbours at a time, and one call per run costs less than one per position. Call {@link Runs#flush}
     * after the last position. Not thread-safe: one per task.
     */
    public Runs runs() {
        return new Runs();
    }

    /** See {@link #runs()}. */
    public final class Runs implements java.util.function.IntConsumer {
        private int first = -1;
        private int end = -1;

        @Override
        public void accept(int position) {
            if (position == end) {
                end++;
                return;
            }
            flush();
            first = position;
            end = position + 1;
        }

        /** Applies the epilogue to the run in progress, if any. */
        public void flush() {
            if (first >= 0) {
                apply(first * channels, end * channels);
                first = -1;
                end = -1;
            }
        }
    }
}
