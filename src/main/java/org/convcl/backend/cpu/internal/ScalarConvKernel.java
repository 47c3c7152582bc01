package org.convcl.backend.cpu.internal;

import java.util.Arrays;

/**
 * The plain-Java kernel, used where the Vector API is absent and for channel tails: per output position it
 * accumulates straight into the output, with the innermost loop over contiguous output channels so that the
 * JIT's auto-vectoriser can work on it.
 */
final class ScalarConvKernel implements RowKernel {

    @Override
    public void computeRow(ConvRows rows, int row, int from, int to, float[] input, float[] kernel, float[] bias,
            float[] output, Scratch scratch, StoreEpilogue epilogue) {
        int b = row / rows.outerCount;
        int outer = row % rows.outerCount;
        int validTaps = rows.validOuterTaps(outer, scratch.sourceOffset, scratch.tapIndex);
        int cin = rows.inChannels;
        int cout = rows.outChannels;
        int inPerGroup = rows.inPerGroup;
        int outPerGroup = rows.outPerGroup;
        int inputBase = b * rows.inputSpatialSize * cin;
        for (int o = from; o < to; o++) {
            int outBase = (row * rows.outLast + o) * cout;
            if (bias != null) {
                System.arraycopy(bias, 0, output, outBase, cout);
            } else {
                Arrays.fill(output, outBase, outBase + cout, 0f);
            }
            for (int i = 0; i < validTaps; i++) {
                int tapBase = scratch.tapIndex[i] * rows.kernelLast;
                for (int t = 0; t < rows.kernelLast; t++) {
                    int s = rows.lastSource(o, t);
                    if (s < 0) {
                        continue;
                    }
                    int inBase = inputBase + (scratch.sourceOffset[i] + s) * cin;
                    int kernelTapBase = (tapBase + t) * inPerGroup * cout;
                    for (int group = 0; group < rows.groups; group++) {
                        int outGroupBase = outBase + group * outPerGroup;
                        for (int ci = 0; ci < inPerGroup; ci++) {
                            float x = input[inBase + group * inPerGroup + ci];
                            int kernelRow = kernelTapBase + ci * cout + group * outPerGroup;
                            for (int co = 0; co < outPerGroup; co++) {
                                output[outGroupBase + co] += x * kernel[kernelRow + co];
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * Output channels {@code [channelFrom, outPerGroup)} of one group at the given positions (which may
     * repeat), for the channels left over after the vector blocks.
     */
    static void positionsTail(ConvRows rows, int validTaps, Scratch scratch, int inGroupBase, int group,
            int channelFrom, int[] positions, float[] input, float[] kernel, float[] bias, float[] output,
            int rowBase) {
        int cin = rows.inChannels;
        int cout = rows.outChannels;
        int inPerGroup = rows.inPerGroup;
        int channelBase = group * rows.outPerGroup;
        for (int o : positions) {
            int outBase = (rowBase + o) * cout + channelBase;
            for (int co = channelFrom; co < rows.outPerGroup; co++) {
                output[outBase + co] = bias == null ? 0f : bias[channelBase + co];
            }
            for (int i = 0; i < validTaps; i++) {
                int tapBase = scratch.tapIndex[i] * rows.kernelLast;
                for (int t = 0; t < rows.kernelLast; t++) {
                    int s = rows.lastSource(o, t);
                    if (s < 0) {
                        continue;
                    }
                    int inBase = inGroupBase + (scratch.sourceOffset[i] + s) * cin;
                    int kernelTapBase = (tapBase + t) * inPerGroup * cout + channelBase;
                    for (int ci = 0; ci < inPerGroup; ci++) {
                        float x = input[inBase + ci];
                        int kernelRow = kernelTapBase + ci * cout;
                        for (int co = channelFrom; co < rows.outPerGroup; co++) {
                            output[outBase + co] += x * kernel[kernelRow + co];
                        }
                    }
                }
            }
        }
    }
}
