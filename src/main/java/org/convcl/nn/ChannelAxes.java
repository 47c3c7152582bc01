package org.convcl.nn;

import org.convcl.Layout;

/**
 * Where the channel axis of a layer's activations sits, for a given number of spatial dims: {@link #NONE} for
 * channels-last ({@code (*batch, *spatial, C)}, the engines' order, nothing moves) or, for channels-first, the
 * moves between {@code (*batch, C, *spatial)} and the engines' order, on shapes and on host values. Shared by the
 * convolution layers' {@link ChannelsFirst} and by {@link Pool}, which has no kernel to arrange. Immutable.
 */
class ChannelAxes {
    /** Channels-last: every shape and value is the engines' already. */
    static final ChannelAxes NONE = new ChannelAxes();

    private ChannelAxes() {
    }

    /** The axes of {@code layout} for activations with {@code rank} spatial dims. */
    static ChannelAxes of(Layout layout, int rank) {
        return layout == Layout.CHANNELS_LAST ? NONE : new First(rank);
    }

    /** A user-layout shape in the engines' (channels-last) order. */
    int[] toChannelsLast(int[] userShape) {
        return userShape;
    }

    /** A channels-last shape in the user's layout. */
    int[] toUser(int[] internalShape) {
        return internalShape;
    }

    /** Values of a user-layout shape in channels-last order ({@code values} itself when nothing moves). */
    float[] valuesToChannelsLast(float[] values, int[] userShape) {
        return values;
    }

    /** Channels-last values of {@code internalShape} in the user's layout. */
    float[] valuesToUser(float[] values, int[] internalShape) {
        return values;
    }

    /** {@code (*batch, C, *spatial)} with {@code rank} spatial dims. */
    static final class First extends ChannelAxes {
        private final int rank;

        First(int rank) {
            this.rank = rank;
        }

        @Override
        int[] toChannelsLast(int[] shape) {
            int batchDims = shape.length - rank - 1;
            int[] internal = new int[shape.length];
            System.arraycopy(shape, 0, internal, 0, batchDims);
            System.arraycopy(shape, batchDims + 1, internal, batchDims, rank);
            internal[shape.length - 1] = shape[batchDims];
            return internal;
        }

        @Override
        int[] toUser(int[] internalShape) {
            int batchDims = internalShape.length - rank - 1;
            int[] shape = new int[internalShape.length];
            System.arraycopy(internalShape, 0, shape, 0, batchDims);
            shape[batchDims] = internalShape[internalShape.length - 1];
            System.arraycopy(internalShape, batchDims, shape, batchDims + 1, rank);
            return shape;
        }

        @Override
        float[] valuesToChannelsLast(float[] values, int[] userShape) {
            return moves(userShape).apply(values);
        }

        @Override
        float[] valuesToUser(float[] values, int[] internalShape) {
            return moves(toUser(internalShape)).inverse().apply(values);
        }

        /** {@code (B, C, S)} to {@code (B, S, C)} for a channels-first shape of this rank. */
        AxisMoves moves(int[] userShape) {
            int batchDims = userShape.length - rank - 1;
            long batch = 1;
            for (int d = 0; d < batchDims; d++) {
                batch *= userShape[d];
            }
            int channels = userShape[batchDims];
            long spatial = 1;
            for (int d = batchDims + 1; d < userShape.length; d++) {
                spatial *= userShape[d];
            }
            if (batch * channels * spatial == 0) {
                // Nothing to move (and the other factors may be past an int).
                return AxisMoves.of();
            }
            return AxisMoves.of(new AxisMoves.Step((int) batch, channels, (int) spatial));
        }
    }
}
