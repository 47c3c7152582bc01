package org.convcl.backend.cpu;

import jdk.incubator.vector.FloatVector;
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
    public void computeRow(ConvRows rows, int row, int from, int to, float[] input, float[] kernel, float[] bias,
            float[] output, Scratch scratch) {
        int b = row / rows.outerCount;
        int outer = row % rows.outerCount;
        int validOuter = rows.validOuterTaps(outer, scratch.sourceOffset, scratch.tapIndex);
        int channels = rows.outChannels;
        int inputBase = b * rows.inputSpatialSize * channels;
        int[] inputOffset = scratch.blockOffset0;
        int[] kernelOffset = scratch.blockKernelOffset;
        for (int o = from; o < to; o++) {
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
            int outBase = (row * rows.outLast + o) * channels;
            int c = 0;
            for (; c + LANES <= channels; c += LANES) {
                FloatVector sum = bias == null ? FloatVector.zero(SPECIES) : FloatVector.fromArray(SPECIES, bias, c);
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
        }
    }
}
