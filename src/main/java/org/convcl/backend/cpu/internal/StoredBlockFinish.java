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
 * both in one method, without a call per position, the stem's scale + shift + ReLU went from 1.13-1.16x the bare
 * call to 0.97-1.04x in the bench (a call per position for the bias and another for the epilogue, neither inlined
 * into the blocks: "too big"). The 1-vector blocks, narrower than a stage's rows, finish in the output itself
 * ({@link #finish}). Loaded with the vector kernels (see {@link CpuKernels}).
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
     * The calling thread's stage, {@link #STAGE_FLOATS} floats: a 4-vector block stores position {@code k}'s sums
     * at {@code k * 4 * LANES} and {@link #finishStaged} moves them to the output. Fetched once per tile or row
     * segment, not per block.
     */
    static float[] threadStage() {
        return STAGES.get();
    }

    /**
     * The bias and the epilogue of a 4-vector block whose sums are in the stage (position {@code k} at
     * {@code k * 4 * LANES}), stored into {@code output} at {@code at0..at3}, once per distinct position: written out
     * vector by vector, so that the bounds of each array are checked and the parts' tests taken once per position
     * rather than once per vector. A 64 -> 64 1x1 layer with scale + shift + ReLU, one thread, cache-resident, in
     * GFLOP/s from JVM to JVM: 155 when the block stored into the output and called a finish per position, 183-190
     * with one loop per vector, 175-197 so, 200-235 without an epilogue.
     */
    static void finishStaged(float[] stage, float[] output, int at0, int at1, int at2, int at3, float[] bias,
            int channel, StoreEpilogue epilogue) {
        float[] scale = null;
        float[] shift = null;
        float[] residual = null;
        int residualBase = 0;
        int activation = StoreEpilogue.IDENTITY;
        if (epilogue != null) {
            scale = epilogue.scale;
            shift = epilogue.shift;
            residual = epilogue.residual;
            residualBase = epilogue.residualBase;
            activation = epilogue.storeActivation;
        }
        int previous = -1;
        for (int k = 0; k < 4; k++) {
            int at = k == 0 ? at0 : k == 1 ? at1 : k == 2 ? at2 : at3;
            // A position the block repeats (past a tile's or row's end) equals the one before it: finished once.
            if (k > 0 && at == previous) {
                continue;
            }
            previous = at;
            int from = k * 4 * LANES;
            FloatVector v0 = FloatVector.fromArray(SPECIES, stage, from);
            FloatVector v1 = FloatVector.fromArray(SPECIES, stage, from + LANES);
            FloatVector v2 = FloatVector.fromArray(SPECIES, stage, from + 2 * LANES);
            FloatVector v3 = FloatVector.fromArray(SPECIES, stage, from + 3 * LANES);
            if (bias != null) {
                v0 = v0.add(FloatVector.fromArray(SPECIES, bias, channel));
                v1 = v1.add(FloatVector.fromArray(SPECIES, bias, channel + LANES));
                v2 = v2.add(FloatVector.fromArray(SPECIES, bias, channel + 2 * LANES));
                v3 = v3.add(FloatVector.fromArray(SPECIES, bias, channel + 3 * LANES));
            }
            if (scale != null) {
                v0 = v0.mul(FloatVector.fromArray(SPECIES, scale, channel));
                v1 = v1.mul(FloatVector.fromArray(SPECIES, scale, channel + LANES));
                v2 = v2.mul(FloatVector.fromArray(SPECIES, scale, channel + 2 * LANES));
                v3 = v3.mul(FloatVector.fromArray(SPECIES, scale, channel + 3 * LANES));
            }
            if (shift != null) {
                v0 = v0.add(FloatVector.fromArray(SPECIES, shift, channel));
                v1 = v1.add(FloatVector.fromArray(SPECIES, shift, channel + LANES));
                v2 = v2.add(FloatVector.fromArray(SPECIES, shift, channel + 2 * LANES));
                v3 = v3.add(FloatVector.fromArray(SPECIES, shift, channel + 3 * LANES));
            }
            if (residual != null) {
                int r = at - residualBase;
                v0 = v0.add(FloatVector.fromArray(SPECIES, residual, r));
                v1 = v1.add(FloatVector.fromArray(SPECIES, residual, r + LANES));
                v2 = v2.add(FloatVector.fromArray(SPECIES, residual, r + 2 * LANES));
                v3 = v3.add(FloatVector.fromArray(SPECIES, residual, r + 3 * LANES));
            }
            if (activation == StoreEpilogue.RELU) {
                v0 = v0.max(0f);
                v1 = v1.max(0f);
                v2 = v2.max(0f);
                v3 = v3.max(0f);
            } else if (activation == StoreEpilogue.CLAMP) {
                float lower = epilogue.lower;
                float upper = epilogue.upper;
                v0 = v0.max(lower).min(upper);
                v1 = v1.max(lower).min(upper);
                v2 = v2.max(lower).min(upper);
                v3 = v3.max(lower).min(upper);
            } else if (activation == StoreEpilogue.LEAKY) {
                // v >= 0 ? v : slope * v; NaN is not >= 0 and slope * NaN is NaN, as in the scalar form.
                float slope = epilogue.slope;
                v0 = v0.mul(slope).blend(v0, v0.compare(VectorOperators.GE, 0f));
                v1 = v1.mul(slope).blend(v1, v1.compare(VectorOperators.GE, 0f));
                v2 = v2.mul(slope).blend(v2, v2.compare(VectorOperators.GE, 0f));
                v3 = v3.mul(slope).blend(v3, v3.compare(VectorOperators.GE, 0f));
            }
            v0.intoArray(output, at);
            v1.intoArray(output, at + LANES);
            v2.intoArray(output, at + 2 * LANES);
            v3.intoArray(output, at + 3 * LANES);
        }
    }

    /**
     * Adds {@code bias[channel ..]} (when not null) to {@code width} channels at each of the positions
     * {@code at0..at3} of {@code output}, where the block stored its sums, then applies {@code epilogue} (when not
     * null), once per distinct position: one load and one store per vector for both. {@code width} is a multiple of
     * the vector length (the 1-vector blocks'). The bits are the two passes': {@code sum + bias} rounded to float32,
     * then {@link VectorStoreEpilogue#apply}'s operations in its order.
     */
    static void finish(float[] output, int at0, int at1, int at2, int at3, float[] bias, int channel, int width,
            StoreEpilogue epilogue) {
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
            for (int j = 0; j < width; j += LANES) {
                FloatVector v = FloatVector.fromArray(SPECIES, output, at + j);
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
