package org.convcl.backend.cpu.internal;

/**
 * Depthwise convolution (one input and one output channel per group, so {@code groups == Cin == Cout}):
 * memory bound, so the goal is one pass over the data. Per output position the innermost loop runs over
 * the contiguous channels of input, kernel tap and output at once, which the JIT vectorises.
 */
final class DepthwiseKernel implements RowKernel {

    static boolean applies(ConvRows rows) {
        return rows.inPerGroup == 1 && rows.outPerGroup == 1;
    }

    @Override
    public void computeRow(ConvRows rows, int row, int from, int to, float[] input, float[] kernel, float[] bias,
            float[] output, Scratch scratch, StoreEpilogue epilogue) {
        int b = row / rows.outerCount;
        int outer = row % rows.outerCount;
        int validTaps = rows.validOuterTaps(outer, scratch.sourceOffset, scratch.tapIndex);
        int channels = rows.outChannels;
        int inputBase = b * rows.inputSpatialSize * channels;
        for (int o = from; o < to; o++) {
            int outBase = (row * rows.outLast + o) * channels;
            if (bias != null) {
                System.arraycopy(bias, 0, output, outBase, channels);
            } else {
                java.util.Arrays.fill(output, outBase, outBase + channels, 0f);
            }
            for (int i = 0; i < validTaps; i++) {
                int tapBase = scratch.tapIndex[i] * rows.kernelLast;
                for (int t = 0; t < rows.kernelLast; t++) {
                    int s = rows.lastSource(o, t);
                    if (s < 0) {
                        continue;
                    }
                    int inBase = inputBase + (scratch.sourceOffset[i] + s) * channels;
                    int kernelBase = (tapBase + t) * channels;
                    for (int c = 0; c < channels; c++) {
                        output[outBase + c] += input[inBase + c] * kernel[kernelBase + c];
                    }
                }
            }
        }
    }
}
