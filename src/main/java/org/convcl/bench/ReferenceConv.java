package org.convcl.bench;

import org.convcl.ConvGeometry;

/**
 * A float64 direct convolution of one batch element, the benchmark's judge of every result. Slow and
 * simple on purpose: one scalar loop per output element, no blocking, nothing shared with the backends
 * beyond the geometry's source tables.
 */
final class ReferenceConv {
    private ReferenceConv() {
    }

    /** The output of batch element {@code b}, {@code (*outSpatial, Cout)} flattened, in double precision. */
    static double[] batchElement(ConvGeometry g, float[] input, float[] kernel, float[] bias, int b) {
        int rank = g.rank();
        int[] out = g.outSpatial();
        int[] k = g.kernelSpatial();
        int[] in = g.inSpatial();
        int[][] source = new int[rank][];
        for (int d = 0; d < rank; d++) {
            source[d] = g.sourceIndexTable(d);
        }
        int cin = g.inChannels();
        int cout = g.outChannels();
        int cinPerGroup = g.inChannelsPerGroup();
        int coutPerGroup = g.outChannelsPerGroup();
        int positions = g.outputSpatialSize();
        int taps = g.kernelTaps();
        long inputBase = (long) b * g.inputSpatialSize() * cin;
        double[] result = new double[positions * cout];
        int[] o = new int[rank];
        int[] t = new int[rank];
        for (int p = 0; p < positions; p++) {
            unflatten(p, out, o);
            for (int co = 0; co < cout; co++) {
                int group = co / coutPerGroup;
                double sum = bias == null ? 0 : bias[co];
                for (int tap = 0; tap < taps; tap++) {
                    unflatten(tap, k, t);
                    long position = 0;
                    boolean zero = false;
                    for (int d = 0; d < rank; d++) {
                        int index = source[d][o[d] * k[d] + t[d]];
                        if (index < 0) {
                            zero = true;
                            break;
                        }
                        position = position * in[d] + index;
                    }
                    if (zero) {
                        continue;
                    }
                    long base = inputBase + position * cin + (long) group * cinPerGroup;
                    for (int ci = 0; ci < cinPerGroup; ci++) {
                        sum += (double) input[(int) (base + ci)] * kernel[(tap * cinPerGroup + ci) * cout + co];
                    }
                }
                result[p * cout + co] = sum;
            }
        }
        return result;
    }

    private static void unflatten(int flat, int[] sizes, int[] index) {
        for (int d = sizes.length - 1; d >= 0; d--) {
            index[d] = flat % sizes[d];
            flat /= sizes[d];
        }
    }
}
