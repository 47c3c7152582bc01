package org.convcl.backend.cpu.internal;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Depthwise convolution ({@code groups == Cin == Cout}) on the Vector API. Memory bound: per output
 * position the taps that read real input are listed once, then each vector of channels is reduced over
 * them in registers and stored once, so input, kernel and output each cross the cache hierarchy once.
 *
 * <p>Loaded only when the {@code jdk.incubator.vector} module is present (see {@link CpuKernels}).
 */
final class VectorDepthwiseKernel implements RowKernel {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();

    @Override
    public boolean appliesEpilogue() {
        return true;
    }

    @Override
    public void computeRow(ConvRows rows, int row, int from, int to, float[] input, float[] kernel, float[] bias,
            float[] output, Scratch scratch, StoreEpilogue epilogue) {
        int b = row / rows.outerCount;
        int outer = row % rows.outerCount;
        int validOuter = rows.validOuterTaps(outer, scratch.sourceOffset, scratch.tapIndex);
        int inputBase = b * rows.inputSpatialSize * rows.outChannels;
        int[] inputOffset = scratch.blockOffset0;
        int interiorFrom = Math.max(from, rows.lastInteriorFrom);
        int interiorTo = Math.min(to, rows.lastInteriorTo);
        int step = rows.lastStrideElements();
        int taps = 0;
        for (int o = from; o < to; o++) {
            if (o > interiorFrom && o < interiorTo) {
                // Past the first interior position every tap reads one stride further: no lookups.
                for (int tap = 0; tap < taps; tap++) {
                    inputOffset[tap] += step;
                }
            } else {
                taps = listTaps(rows, o, validOuter, inputBase, scratch);
            }
            computePosition(rows, row, o, taps, input, kernel, bias, output, scratch, epilogue);
        }
    }

    /** Lists position {@code o}'s taps that read real input: input and kernel offsets; returns how many. */
    private static int listTaps(ConvRows rows, int o, int validOuter, int inputBase, Scratch scratch) {
        int channels = rows.outChannels;
        int[] inputOffset = scratch.blockOffset0;
        int[] kernelOffset = scratch.blockKernelOffset;
        int taps = 0;
        for (int i = 0; i < validOuter; i++) {
            int tapBase = scratch.tapIndex[i] * rows.kernelLast;
            for (int t = 0; t < rows.kernelLast; t++) {
                int s = rows.lastSource(o, t);
                if (s >= 0) {
                    inputOffset[taps] = inputBase + (scratch.sourceOffset[i] + s) * channels;
                    kernelOffset[taps] = (tapBase + t) * channels;
                    taps++;
                }
            }
        }
        return taps;
    }

    /**
     * Output position {@code o} of row {@code row}, every channel, from the listed taps; then {@code epilogue}, when
     * not null, over the position while it is in cache.
     */
    private static void computePosition(ConvRows rows, int row, int o, int taps, float[] input, float[] kernel,
            float[] bias, float[] output, Scratch scratch, StoreEpilogue epilogue) {
        int channels = rows.outChannels;
        int[] inputOffset = scratch.blockOffset0;
        int[] kernelOffset = scratch.blockKernelOffset;
        int outBase = (row * rows.outLast + o) * channels;
        // Channels in blocks of 4, then 2, then 1 vectors, each vector with its own accumulator: one chain
        // of dependent FMAs per vector would wait out the FMA latency at every tap (9 taps x 4 cycles) where
        // independent chains keep the units busy, until memory sets the pace.
        int c = 0;
        for (; c + 4 * LANES <= channels; c += 4 * LANES) {
            block4(taps, inputOffset, kernelOffset, c, input, kernel, bias, output, outBase, epilogue);
        }
        // At most one 2-vector block follows the 4-vector ones.
        if (c + 2 * LANES <= channels) {
            block2(taps, inputOffset, kernelOffset, c, input, kernel, bias, output, outBase, epilogue);
            c += 2 * LANES;
        }
        int wide = c;
        for (; c + LANES <= channels; c += LANES) {
            FloatVector sum = start(bias, c);
            for (int tap = 0; tap < taps; tap++) {
                FloatVector x = FloatVector.fromArray(SPECIES, input, inputOffset[tap] + c);
                sum = x.fma(FloatVector.fromArray(SPECIES, kernel, kernelOffset[tap] + c), sum);
            }
            sum.intoArray(output, outBase + c);
        }
        for (; c < channels; c++) {
            float sum = bias == null ? 0f : bias[c];
            for (int tap = 0; tap < taps; tap++) {
                sum += input[inputOffset[tap] + c] * kernel[kernelOffset[tap] + c];
            }
            output[outBase + c] = sum;
        }
        if (epilogue != null && wide < channels) {
            // The 4- and 2-vector blocks applied it in registers; the channels after them here, in cache.
            VectorStoreEpilogue.apply(epilogue, output, outBase + wide, wide, channels - wide);
        }
    }

    /**
     * Channels {@code c .. c + 4 * LANES} of one position: four accumulators over the taps, then the epilogue in
     * registers (the operations of {@code VectorStoreEpilogue.apply} in its order: the same bits), then the stores.
     * A method of its own: written into {@link #computePosition}, the epilogue made that method too large for C2 to
     * keep its vectors in registers (every call, plain or not, ran twice as long). The 2- and 1-vector blocks keep
     * the epilogue after their stores: given methods of their own too, the plain call slowed by half.
     */
    private static void block4(int taps, int[] inputOffset, int[] kernelOffset, int c, float[] input, float[] kernel,
            float[] bias, float[] output, int outBase, StoreEpilogue epilogue) {
        FloatVector s0 = start(bias, c), s1 = start(bias, c + LANES);
        FloatVector s2 = start(bias, c + 2 * LANES), s3 = start(bias, c + 3 * LANES);
        for (int tap = 0; tap < taps; tap++) {
            int x = inputOffset[tap] + c;
            int w = kernelOffset[tap] + c;
            s0 = FloatVector.fromArray(SPECIES, input, x).fma(FloatVector.fromArray(SPECIES, kernel, w), s0);
            s1 = FloatVector.fromArray(SPECIES, input, x + LANES)
                    .fma(FloatVector.fromArray(SPECIES, kernel, w + LANES), s1);
            s2 = FloatVector.fromArray(SPECIES, input, x + 2 * LANES)
                    .fma(FloatVector.fromArray(SPECIES, kernel, w + 2 * LANES), s2);
            s3 = FloatVector.fromArray(SPECIES, input, x + 3 * LANES)
                    .fma(FloatVector.fromArray(SPECIES, kernel, w + 3 * LANES), s3);
        }
        if (epilogue != null) {
            float[] scale = epilogue.scale;
            float[] shift = epilogue.shift;
            float[] residual = epilogue.residual;
            // A task's own copy of an in-place residual starts at its segment (residualBase), the output at 0.
            int residualAt = outBase - epilogue.residualBase;
            if (scale != null) {
                s0 = s0.mul(FloatVector.fromArray(SPECIES, scale, c));
                s1 = s1.mul(FloatVector.fromArray(SPECIES, scale, c + LANES));
                s2 = s2.mul(FloatVector.fromArray(SPECIES, scale, c + 2 * LANES));
                s3 = s3.mul(FloatVector.fromArray(SPECIES, scale, c + 3 * LANES));
            }
            if (shift != null) {
                s0 = s0.add(FloatVector.fromArray(SPECIES, shift, c));
                s1 = s1.add(FloatVector.fromArray(SPECIES, shift, c + LANES));
                s2 = s2.add(FloatVector.fromArray(SPECIES, shift, c + 2 * LANES));
                s3 = s3.add(FloatVector.fromArray(SPECIES, shift, c + 3 * LANES));
            }
            if (residual != null) {
                s0 = s0.add(FloatVector.fromArray(SPECIES, residual, residualAt + c));
                s1 = s1.add(FloatVector.fromArray(SPECIES, residual, residualAt + c + LANES));
                s2 = s2.add(FloatVector.fromArray(SPECIES, residual, residualAt + c + 2 * LANES));
                s3 = s3.add(FloatVector.fromArray(SPECIES, residual, residualAt + c + 3 * LANES));
            }
            if (epilogue.storeActivation == StoreEpilogue.RELU) {
                s0 = s0.max(0f);
                s1 = s1.max(0f);
                s2 = s2.max(0f);
                s3 = s3.max(0f);
            } else if (epilogue.storeActivation == StoreEpilogue.CLAMP) {
                s0 = s0.max(epilogue.lower).min(epilogue.upper);
                s1 = s1.max(epilogue.lower).min(epilogue.upper);
                s2 = s2.max(epilogue.lower).min(epilogue.upper);
                s3 = s3.max(epilogue.lower).min(epilogue.upper);
            } else if (epilogue.storeActivation == StoreEpilogue.LEAKY) {
                s0 = s0.mul(epilogue.slope).blend(s0, s0.compare(VectorOperators.GE, 0f));
                s1 = s1.mul(epilogue.slope).blend(s1, s1.compare(VectorOperators.GE, 0f));
                s2 = s2.mul(epilogue.slope).blend(s2, s2.compare(VectorOperators.GE, 0f));
                s3 = s3.mul(epilogue.slope).blend(s3, s3.compare(VectorOperators.GE, 0f));
            }
        }
        s0.intoArray(output, outBase + c);
        s1.intoArray(output, outBase + c + LANES);
        s2.intoArray(output, outBase + c + 2 * LANES);
        s3.intoArray(output, outBase + c + 3 * LANES);
    }

    /**
     * Channels {@code c .. c + 2 * LANES} of one position, as {@link #block4}: two accumulators, the epilogue in
     * registers, the stores. Before, those channels (32 of a 96-channel layer) had their epilogue applied after the
     * store, a call per position: depthwise3x3 with scale + shift + ReLU took 1.14-1.27x the bare call in the bench.
     */
    private static void block2(int taps, int[] inputOffset, int[] kernelOffset, int c, float[] input, float[] kernel,
            float[] bias, float[] output, int outBase, StoreEpilogue epilogue) {
        FloatVector s0 = start(bias, c), s1 = start(bias, c + LANES);
        for (int tap = 0; tap < taps; tap++) {
            int x = inputOffset[tap] + c;
            int w = kernelOffset[tap] + c;
            s0 = FloatVector.fromArray(SPECIES, input, x).fma(FloatVector.fromArray(SPECIES, kernel, w), s0);
            s1 = FloatVector.fromArray(SPECIES, input, x + LANES)
                    .fma(FloatVector.fromArray(SPECIES, kernel, w + LANES), s1);
        }
        if (epilogue != null) {
            float[] scale = epilogue.scale;
            float[] shift = epilogue.shift;
            float[] residual = epilogue.residual;
            // A task's own copy of an in-place residual starts at its segment (residualBase), the output at 0.
            int residualAt = outBase - epilogue.residualBase;
            if (scale != null) {
                s0 = s0.mul(FloatVector.fromArray(SPECIES, scale, c));
                s1 = s1.mul(FloatVector.fromArray(SPECIES, scale, c + LANES));
            }
            if (shift != null) {
                s0 = s0.add(FloatVector.fromArray(SPECIES, shift, c));
                s1 = s1.add(FloatVector.fromArray(SPECIES, shift, c + LANES));
            }
            if (residual != null) {
                s0 = s0.add(FloatVector.fromArray(SPECIES, residual, residualAt + c));
                s1 = s1.add(FloatVector.fromArray(SPECIES, residual, residualAt + c + LANES));
            }
            if (epilogue.storeActivation == StoreEpilogue.RELU) {
                s0 = s0.max(0f);
                s1 = s1.max(0f);
            } else if (epilogue.storeActivation == StoreEpilogue.CLAMP) {
                s0 = s0.max(epilogue.lower).min(epilogue.upper);
                s1 = s1.max(epilogue.lower).min(epilogue.upper);
            } else if (epilogue.storeActivation == StoreEpilogue.LEAKY) {
                s0 = s0.mul(epilogue.slope).blend(s0, s0.compare(VectorOperators.GE, 0f));
                s1 = s1.mul(epilogue.slope).blend(s1, s1.compare(VectorOperators.GE, 0f));
            }
        }
        s0.intoArray(output, outBase + c);
        s1.intoArray(output, outBase + c + LANES);
    }

    /** An accumulator starting at the bias of channels {@code c..}, or at zero. */
    private static FloatVector start(float[] bias, int c) {
        return bias == null ? FloatVector.zero(SPECIES) : FloatVector.fromArray(SPECIES, bias, c);
    }
}
