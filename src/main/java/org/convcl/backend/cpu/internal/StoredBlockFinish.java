package org.convcl.backend.cpu.internal;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The bias and the epilogue of a register block of 4 output positions after its sums are stored, read back from the
 * first-level cache: {@code sum + bias} is the same float32 addition as in the registers, and a position the block
 * repeats (past a tile's or row's end) gets them once.
 *
 * <p>Why not in the registers, in the block's own method: the blocks sit close to C2's node limit for one
 * compilation (NodeCountInliningCutoff), and the Vector API calls past it are not intrinsified, so every accumulator
 * is boxed. Which compilation crosses it depends on what ran before (profiles, inlining), so it came and went: a
 * 1x1 layer after other kernels ran at 0.95 ms with 1 MB of garbage per call instead of 0.59 ms with none. Sixteen
 * bias additions and their loads were the margin. Loaded with the vector kernels (see {@link CpuKernels}).
 */
final class StoredBlockFinish {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();

    private StoredBlockFinish() {
    }

    /**
     * Adds {@code bias[channel ..]} (when not null) to {@code width} channels at each of the positions
     * {@code at0..at3} once, then applies {@code epilogue} (when not null) to them.
     */
    static void finish(float[] output, int at0, int at1, int at2, int at3, float[] bias, int channel, int width,
            StoreEpilogue epilogue) {
        if (bias != null) {
            addBias(output, at0, bias, channel, width);
            if (at1 != at0) {
                addBias(output, at1, bias, channel, width);
            }
            if (at2 != at1) {
                addBias(output, at2, bias, channel, width);
            }
            if (at3 != at2) {
                addBias(output, at3, bias, channel, width);
            }
        }
        if (epilogue != null) {
            VectorStoreEpilogue.applyPositions(epilogue, output, at0, at1, at2, at3, channel, width);
        }
    }

    private static void addBias(float[] output, int at, float[] bias, int channel, int width) {
        for (int j = 0; j < width; j += LANES) {
            FloatVector.fromArray(SPECIES, output, at + j).add(FloatVector.fromArray(SPECIES, bias, channel + j))
                    .intoArray(output, at + j);
        }
    }
}
