package org.convcl.testing;

import org.convcl.Tensor;

/**
 * Channels-last test data (the golden suite's, flax's layout) moved to the channels-first layout, for checking
 * {@code Layout.CHANNELS_FIRST} layers against the same references. Written for the tests as a plain axis
 * permutation over every index, sharing nothing with the library's moves (batched transposes).
 */
public final class ChannelsFirstData {
    private ChannelsFirstData() {
    }

    /**
     * The axis order of a channels-first activation from a channels-last one {@code (*batch, *spatial, C)} of
     * {@code rank} axes and {@code spatialDims} spatial dims: {@code (*batch, C, *spatial)}.
     */
    public static int[] activationOrder(int rank, int spatialDims) {
        int batchDims = rank - spatialDims - 1;
        int[] order = new int[rank];
        for (int d = 0; d < batchDims; d++) {
            order[d] = d;
        }
        order[batchDims] = rank - 1;
        for (int d = 0; d < spatialDims; d++) {
            order[batchDims + 1 + d] = batchDims + d;
        }
        return order;
    }

    /** A Conv kernel {@code (*k, Cin/groups, Cout)} as {@code (Cout, Cin/groups, *k)} (OIHW). */
    public static int[] convKernelOrder(int spatialDims) {
        return channelsThenSpatial(spatialDims, spatialDims + 1, spatialDims);
    }

    /**
     * A ConvTranspose kernel as PyTorch's {@code (Cin, Cout, *k)}: from {@code (*k, Cin, Cout)}, or from
     * {@code (*k, Cout, Cin)} when {@code transposeKernel}.
     */
    public static int[] transposeKernelOrder(int spatialDims, boolean transposeKernel) {
        return transposeKernel ? channelsThenSpatial(spatialDims, spatialDims + 1, spatialDims)
                : channelsThenSpatial(spatialDims, spatialDims, spatialDims + 1);
    }

    private static int[] channelsThenSpatial(int spatialDims, int first, int second) {
        int[] order = new int[spatialDims + 2];
        order[0] = first;
        order[1] = second;
        for (int d = 0; d < spatialDims; d++) {
            order[2 + d] = d;
        }
        return order;
    }

    /** A channels-last activation of {@code spatialDims} spatial dims, channels-first. */
    public static Tensor activations(Tensor channelsLast, int spatialDims) {
        return permute(channelsLast, activationOrder(channelsLast.rank(), spatialDims));
    }

    /** {@code tensor} with its axes in {@code order}: axis i of the result is axis {@code order[i]} of the source. */
    public static Tensor permute(Tensor tensor, int[] order) {
        double[] values = permute(Tolerance.toDouble(tensor.data()), tensor.shape(), order);
        float[] result = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            result[i] = (float) values[i];
        }
        return Tensor.of(result, permuteShape(tensor.shape(), order));
    }

    public static int[] permuteShape(int[] shape, int[] order) {
        int[] result = new int[order.length];
        for (int i = 0; i < order.length; i++) {
            result[i] = shape[order[i]];
        }
        return result;
    }

    /** Row-major {@code values} of {@code shape} with the axes in {@code order}. */
    public static double[] permute(double[] values, int[] shape, int[] order) {
        int[] sources = sourceIndices(shape, order);
        double[] result = new double[values.length];
        for (int i = 0; i < result.length; i++) {
            result[i] = values[sources[i]];
        }
        return result;
    }

    /** Row-major 16-bit {@code bits} of {@code shape} with the axes in {@code order}, each moved as it is. */
    public static short[] permute(short[] bits, int[] shape, int[] order) {
        int[] sources = sourceIndices(shape, order);
        short[] result = new short[bits.length];
        for (int i = 0; i < result.length; i++) {
            result[i] = bits[sources[i]];
        }
        return result;
    }

    /** For each element of the permuted result, in row-major order, the index it comes from in the source. */
    private static int[] sourceIndices(int[] shape, int[] order) {
        int rank = shape.length;
        long[] strides = new long[rank];
        long stride = 1;
        for (int d = rank - 1; d >= 0; d--) {
            strides[d] = stride;
            stride *= shape[d];
        }
        int[] resultShape = permuteShape(shape, order);
        int[] sources = new int[(int) stride];
        int[] index = new int[rank];
        for (int i = 0; i < sources.length; i++) {
            long source = 0;
            for (int d = 0; d < rank; d++) {
                source += index[d] * strides[order[d]];
            }
            sources[i] = (int) source;
            for (int d = rank - 1; d >= 0 && ++index[d] == resultShape[d]; d--) {
                index[d] = 0;
            }
        }
        return sources;
    }
}
