package org.convcl.backend.cpu.internal;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * A {@link StoreEpilogue} applied by a vector kernel to the values of one output position it has just stored,
 * while they are in the first-level cache: scale, shift, the residual at the same output index, then the
 * activation, each a lane-wise operation that rounds as the scalar one does ({@code mul} then {@code add}, never
 * {@code fma}; {@code max}/{@code min} are {@code Math.max}/{@code Math.min} lane by lane), so the bits are
 * {@code HostEpilogue.apply}'s. A pass over a task's whole segment after it is written, as before, read it back from
 * the second-level cache or beyond.
 *
 * <p>Why not on the accumulators themselves, before the store: the register blocks are large methods once C2 has
 * inlined the Vector API into them, past its inlining budget, so a helper that takes a vector is called, not
 * inlined, and every vector handed to it is boxed on the heap (tried: the plain call then allocated 10 to 80 MB
 * and ran 2 to 4 times slower). This takes an array and indices only: inlined or not, nothing is boxed.
 *
 * <p>Only for epilogues whose {@link StoreEpilogue#appliesInStores} is true. Loaded with the vector kernels (see
 * {@link CpuKernels}).
 */
final class VectorStoreEpilogue {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();

    private VectorStoreEpilogue() {
    }

    /**
     * Applies {@code epilogue} to {@code output[at, at + count)}, channels {@code channel ..} of one output position
     * (so the channels do not wrap around); without scale and shift, whose arrays alone are indexed by channel, any
     * range of positions at once.
     */
    static void apply(StoreEpilogue epilogue, float[] output, int at, int channel, int count) {
        float[] scale = epilogue.scale;
        float[] shift = epilogue.shift;
        float[] residual = epilogue.residual;
        int activation = epilogue.storeActivation;
        int residualAt = at - epilogue.residualBase;
        int j = 0;
        for (; j + LANES <= count; j += LANES) {
            FloatVector v = FloatVector.fromArray(SPECIES, output, at + j);
            if (scale != null) {
                v = v.mul(FloatVector.fromArray(SPECIES, scale, channel + j));
            }
            if (shift != null) {
                v = v.add(FloatVector.fromArray(SPECIES, shift, channel + j));
            }
            if (residual != null) {
                v = v.add(FloatVector.fromArray(SPECIES, residual, residualAt + j));
            }
            if (activation == StoreEpilogue.RELU) {
                v = v.max(0f);
            } else if (activation == StoreEpilogue.CLAMP) {
                v = v.max(epilogue.lower).min(epilogue.upper);
            } else if (activation == StoreEpilogue.LEAKY) {
                // v >= 0 ? v : slope * v; NaN is not >= 0 and slope * NaN is NaN, as in the scalar form.
                v = v.mul(epilogue.slope).blend(v, v.compare(VectorOperators.GE, 0f));
            }
            v.intoArray(output, at + j);
        }
        for (; j < count; j++) {
            output[at + j] = epilogue.applyTo(output[at + j], channel + j, at + j);
        }
    }
}
