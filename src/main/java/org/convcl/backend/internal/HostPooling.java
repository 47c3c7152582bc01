package org.convcl.backend.internal;

import java.util.Arrays;
import org.convcl.PoolGeometry;
import org.convcl.PoolOp;

/**
 * Pooling on host arrays, channels-last: the forward pass and its input gradient, with the semantics
 * {@link PoolGeometry} states (flax's pooling over {@code lax.reduce_window}, jax's gradients). Each output
 * position's window is listed once as the input positions it covers (padding left out), then run for every
 * batch entry, over each position's channels as one contiguous row. Stateless and thread-safe.
 */
public final class HostPooling {
    private HostPooling() {
    }

    /** Overwrites {@code output} {@code (*batch, *outSpatial, C)} with the pooling of {@code input}. */
    public static void forward(PoolOp op, PoolGeometry geometry, float[] input, float[] output) {
        check(op, geometry);
        HostOperands.length("input", input, geometry.inputShape());
        HostOperands.length("output", output, geometry.outputShape());
        Windows windows = new Windows(geometry);
        int channels = geometry.channels();
        float[] acc = new float[channels];
        float init = op == PoolOp.MAX ? Float.NEGATIVE_INFINITY : op == PoolOp.MIN ? Float.POSITIVE_INFINITY : 0f;
        for (int o = 0; o < windows.outCount; o++) {
            int taps = windows.fill(o);
            float divisor = geometry.countIncludePad() ? (float) windows.size : (float) taps;
            for (int b = 0; b < geometry.batch(); b++) {
                Arrays.fill(acc, init);
                int inBase = b * windows.inCount * channels;
                for (int t = 0; t < taps; t++) {
                    int row = inBase + windows.taps[t] * channels;
                    for (int c = 0; c < channels; c++) {
                        float x = input[row + c];
                        if (op == PoolOp.AVG) {
                            acc[c] += x;
                        } else if (Float.isNaN(x) || (op == PoolOp.MAX ? x > acc[c] : x < acc[c])) {
                            // lax.max / lax.min: NaN propagates, and a NaN once taken stays.
                            acc[c] = x;
                        }
                    }
                }
                int outBase = (b * windows.outCount + o) * channels;
                for (int c = 0; c < channels; c++) {
                    output[outBase + c] = op == PoolOp.AVG ? acc[c] / divisor : acc[c];
                }
            }
        }
    }

    /**
     * Overwrites {@code inputGradient} {@code (*batch, *spatial, C)} with the gradient of
     * {@code sum(pool(input) * outputGradient)} with respect to the input.
     */
    public static void backward(PoolOp op, PoolGeometry geometry, float[] input, float[] outputGradient,
            float[] inputGradient) {
        check(op, geometry);
        HostOperands.length("input", input, geometry.inputShape());
        HostOperands.length("outputGradient", outputGradient, geometry.outputShape());
        HostOperands.length("inputGradient", inputGradient, geometry.inputShape());
        Arrays.fill(inputGradient, 0f);
        Windows windows = new Windows(geometry);
        int channels = geometry.channels();
        int[] chosen = new int[channels];
        float[] chosenValue = new float[channels];
        for (int o = 0; o < windows.outCount; o++) {
            int taps = windows.fill(o);
            if (taps == 0) {
                continue;
            }
            float divisor = geometry.countIncludePad() ? (float) windows.size : (float) taps;
            for (int b = 0; b < geometry.batch(); b++) {
                int inBase = b * windows.inCount * channels;
                int outBase = (b * windows.outCount + o) * channels;
                if (op == PoolOp.AVG) {
                    for (int t = 0; t < taps; t++) {
                        int row = inBase + windows.taps[t] * channels;
                        for (int c = 0; c < channels; c++) {
                            inputGradient[row + c] += outputGradient[outBase + c] / divisor;
                        }
                    }
                    continue;
                }
                // XLA's select_and_scatter_add with ge (MAX) or le (MIN): the choice starts at the first real
                // element and moves to a later one whenever the comparison with the chosen is false (ties keep
                // the first; any comparison with NaN is false, so it moves).
                int first = inBase + windows.taps[0] * channels;
                for (int c = 0; c < channels; c++) {
                    chosen[c] = first + c;
                    chosenValue[c] = input[first + c];
                }
                for (int t = 1; t < taps; t++) {
                    int row = inBase + windows.taps[t] * channels;
                    for (int c = 0; c < channels; c++) {
                        float x = input[row + c];
                        if (!(op == PoolOp.MAX ? chosenValue[c] >= x : chosenValue[c] <= x)) {
                            chosen[c] = row + c;
                            chosenValue[c] = x;
                        }
                    }
                }
                for (int c = 0; c < channels; c++) {
                    inputGradient[chosen[c]] += outputGradient[outBase + c];
                }
            }
        }
    }

    private static void check(PoolOp op, PoolGeometry geometry) {
        if (op == null) {
            throw new IllegalArgumentException("op: got null; expected PoolOp.MAX, AVG or MIN");
        }
        if (geometry == null) {
            throw new IllegalArgumentException("geometry: got null; expected a PoolGeometry (PoolSpec.resolve)");
        }
    }

    /**
     * The windows of a geometry: {@link #fill} lists, for one output position, the flat spatial indices of the
     * real input elements its window covers, in row-major window order (padding left out).
     */
    private static final class Windows {
        final int inCount;
        final int outCount;
        final int size;
        /** The last {@link #fill}'s indices. */
        final int[] taps;
        private final int[] in;
        private final int[] out;
        private final int[] window;
        private final int[] strides;
        private final int[] lo;
        private final int[] outIndex;
        private final int[] tapIndex;

        Windows(PoolGeometry g) {
            in = g.inSpatial();
            out = g.outSpatial();
            window = g.window();
            strides = g.strides();
            lo = g.padLo();
            inCount = product(in);
            outCount = product(out);
            // Only real elements are listed: never more than the window's size or the input's positions.
            size = product(window);
            taps = new int[Math.min(size, inCount)];
            outIndex = new int[in.length];
            tapIndex = new int[in.length];
        }

        /** Lists output position {@code o}'s real elements into {@link #taps}; returns how many. */
        int fill(int o) {
            int rank = in.length;
            for (int d = rank - 1, rest = o; d >= 0; d--) {
                outIndex[d] = rest % out[d];
                rest /= out[d];
            }
            int count = 0;
            Arrays.fill(tapIndex, 0);
            for (int t = 0; t < size; t++) {
                int flat = 0;
                boolean real = true;
                for (int d = 0; d < rank && real; d++) {
                    long position = (long) outIndex[d] * strides[d] + tapIndex[d] - lo[d];
                    real = position >= 0 && position < in[d];
                    flat = flat * in[d] + (int) position;
                }
                if (real) {
                    taps[count++] = flat;
                }
                increment(tapIndex, window);
            }
            return count;
        }

        private static int product(int[] sizes) {
            int product = 1;
            for (int size : sizes) {
                product *= size;
            }
            return product;
        }

        /** The next row-major multi-index (the last dim fastest). */
        private static void increment(int[] index, int[] sizes) {
            for (int d = index.length - 1; d >= 0; d--) {
                if (++index[d] < sizes[d]) {
                    return;
                }
                index[d] = 0;
            }
        }
    }
}
