package org.convcl.backend.cpu.internal;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The bias and the epilogue of a register block of 4 output positions, applied after its sums are stored: read
 * back from the first-level cache, {@code sum + bias} is the same float32 addition as in the registers, and a
 * position the block repeats (past a tile's or row's end) gets them once.
 *
 * <p>Why not in the registers, in the block's own method: the blocks sit close to C2's node limit for one
 * compilation (NodeCountInliningCutoff), and the Vector API calls past it are not intrinsified, so every accumulator
 * is boxed. Which compilation crosses it depends on what ran before (profiles, inlining), so it came and went: a
 * 1x1 layer after other kernels ran at 0.95 ms with 1 MB of garbage per call instead of 0.59 ms with none. Sixteen
 * bias additions and their loads were the margin.
 *
 * <p>Why the blocks store their sums in a {@link #threadStage stage} rather than in the output when a bias or an
 * epilogue follows: the finish then stores each output value once, and the output's lines (a layer's output is
 * written once, tens of MB at a time, and is in no cache yet) are not stored, read back and stored again. With
 * both in this one method, without a call per position, the stem's scale + shift + ReLU went from 1.13-1.16x the
 * bare call to 0.97-1.04x in the bench (a call per position for the bias and another for the epilogue, neither
 * inlined into the blocks: "too big").
 *
 * <p>Why one loop over the vectors rather than the 4 vectors written out: written out, each Vector API call site ran
 * once per position, and in 3 of 6 ResNet-50 runs C2 compiled the method from a profile too young to name the
 * vectors' class at those sites ("no static binding" in PrintInlining): no call was inlined or intrinsified, and
 * every vector was boxed (1.9 GB of garbage per batch-8 forward, 1.7x the time). Loaded with the vector kernels
 * (see {@link CpuKernels}).
 */
final class StoredBlockFinish {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();
    /** A stage's floats: the widest block, 4 positions by 4 vectors. */
    static final int STAGE_FLOATS = 4 * 4 * LANES;
    private static final ThreadLocal<float[]> STAGES = ThreadLocal.withInitial(() -> new float[STAGE_FLOATS]);

    private StoredBlockFinish() {
    }

    /**
     * The calling thread's stage, {@link #STAGE_FLOATS} floats: a block of {@code width} channels stores position
     * {@code k}'s sums at {@code k * width} and {@link #finish} moves them to the output. Fetched once per tile or
     * row segment, not per block.
     */
    static float[] threadStage() {
        return STAGES.get();
    }

    /**
     * Reads {@code width} channels of each of 4 positions from {@code source} at {@code from0..from3}, adds
     * {@code bias[channel ..]} (when not null), applies {@code epilogue} (when not null) and stores them in
     * {@code output} at {@code at0..at3}, once per distinct output position: one load and one store per vector
     * for both. The source is the output itself ({@code from_k == at_k}) or a stage. {@code width} is a multiple
     * of the vector length. The bits are the two passes': {@code sum + bias} rounded to float32, then
     * {@link VectorStoreEpilogue#apply}'s operations in its order.
     */
    static void finish(float[] source, int from0, int from1, int from2, int from3, float[] output, int at0,
            int at1, int at2, int at3, float[] bias, int channel, int width, StoreEpilogue epilogue) {
        float[] scale = null;
        float[] shift = null;
        float[] residual = null;
        int residualBase = 0;
        int activation = StoreEpilogue.IDENTITY;
        float lower = Float.NEGATIVE_INFINITY;
        float upper = Float.POSITIVE_INFINITY;
        float slope = 0f;
        if (epilogue != null) {
            scale = epilogue.scale;
            shift = epilogue.shift;
            residual = epilogue.residual;
            residualBase = epilogue.residualBase;
            activation = epilogue.storeActivation;
            lower = epilogue.lower;
            upper = epilogue.upper;
            slope = epilogue.slope;
        }
        int previous = -1;
        for (int k = 0; k < 4; k++) {
            int at = k == 0 ? at0 : k == 1 ? at1 : k == 2 ? at2 : at3;
            // A position the block repeats (past a tile's or row's end) equals the one before it: finished once.
            if (k > 0 && at == previous) {
                continue;
            }
            previous = at;
            int from = k == 0 ? from0 : k == 1 ? from1 : k == 2 ? from2 : from3;
            for (int j = 0; j < width; j += LANES) {
                FloatVector v = FloatVector.fromArray(SPECIES, source, from + j);
                if (bias != null) {
                    v = v.add(FloatVector.fromArray(SPECIES, bias, channel + j));
                }
                if (scale != null) {
                    v = v.mul(FloatVector.fromArray(SPECIES, scale, channel + j));
                }
                if (shift != null) {
                    v = v.add(FloatVector.fromArray(SPECIES, shift, channel + j));
                }
                if (residual != null) {
                    v = v.add(FloatVector.fromArray(SPECIES, residual, at - residualBase + j));
                }
                if (activation == StoreEpilogue.RELU) {
                    v = v.max(0f);
                } else if (activation == StoreEpilogue.CLAMP) {
                    v = v.max(lower).min(upper);
                } else if (activation == StoreEpilogue.LEAKY) {
                    // v >= 0 ? v : slope * v; NaN is not >= 0 and slope * NaN is NaN, as in the scalar form.
                    v = v.mul(slope).blend(v, v.compare(VectorOperators.GE, 0f));
                }
                v.intoArray(output, at + j);
            }
        }
    }
}
