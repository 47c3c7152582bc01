package org.convcl.backend.internal;

import java.util.Arrays;
import org.convcl.PoolGeometry;
import org.convcl.PoolOp;

/**
 * Pooling on host arrays, channels-last: the forward pass and its input gradient, with the semantics
 * {@link PoolGeometry} states (flax's pooling over {@code lax.reduce_window}, jax's gradients). Each output
 * position's window is listed once as the input positions it covers (padding left out), then run for every
 * batch entry and channel. Stateless and thread-safe.
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
        float include = (float) windows.size;
        for (int b = 0; b < geometry.batch(); b++) {
            for (int o = 0; o < windows.outCount; o++) {
                int[] taps = windows.taps[o];
                int outBase = (b * windows.outCount + o) * channels;
                for (int c = 0; c < channels; c++) {
                    int inBase = b * windows.inCount * channels + c;
                    float value;
                    if (op == PoolOp.AVG) {
                        float sum = 0f;
                        for (int tap : taps) {
                            sum += input[inBase + tap * channels];
                        }
                        value = sum / (geometry.countIncludePad() ? include : (float) taps.length);
                    } else {
                        value = op == PoolOp.MAX ? Float.NEGATIVE_INFINITY : Float.POSITIVE_INFINITY;
                        for (int tap : taps) {
                            float x = input[inBase + tap * channels];
                            // lax.max / lax.min: NaN propagates, and a NaN once taken stays.
                            if (Float.isNaN(x) || (op == PoolOp.MAX ? x > value : x < value)) {
                                value = x;
                            }
                        }
                    }
                    output[outBase + c] = value;
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
        float include = (float) windows.size;
        for (int b = 0; b < geometry.batch(); b++) {
            for (int o = 0; o < windows.outCount; o++) {
                int[] taps = windows.taps[o];
                if (taps.length == 0) {
                    continue;
                }
                int outBase = (b * windows.outCount + o) * channels;
                for (int c = 0; c < channels; c++) {
                    int inBase = b * windows.inCount * channels + c;
                    float dy = outputGradient[outBase + c];
                    if (op == PoolOp.AVG) {
                        float share = dy / (geometry.countIncludePad() ? include : (float) taps.length);
                        for (int tap : taps) {
                            inputGradient[inBase + tap * channels] += share;
                        }
                    } else {
                        inputGradient[inBase + chosen(op, input, inBase, channels, taps) * channels] += dy;
                    }
                }
            }
        }
    }

    /**
     * The tap XLA's {@code select_and_scatter_add} picks with {@code ge} (MAX) or {@code le} (MIN): the choice
     * moves to a later element whenever the comparison with the chosen one is false (ties keep the first; any
     * comparison with NaN is false, so it moves).
     */
    private static int chosen(PoolOp op, float[] input, int inBase, int channels, int[] taps) {
        int chosen = taps[0];
        float chosenValue = input[inBase + chosen * channels];
        for (int i = 1; i < taps.length; i++) {
            float x = input[inBase + taps[i] * channels];
            boolean keep = op == PoolOp.MAX ? chosenValue >= x : chosenValue <= x;
            if (!keep) {
                chosen = taps[i];
                chosenValue = x;
            }
        }
        return chosen;
    }

    private static void check(PoolOp op, PoolGeometry geometry) {
        if (op == null) {
            throw new IllegalArgumentException("op: got null; expected PoolOp.MAX, AVG or MIN");
        }
        if (geometry == null) {
            throw new IllegalArgumentException("geometry: got null; expected a PoolGeometry (PoolSpec.resolve)");
        }
    }

    /** For each output position, the flat spatial indices of the real input elements its window covers. */
    private static final class Windows {
        final int inCount;
        final int outCount;
        final int size;
        final int[][] taps;

        Windows(PoolGeometry g) {
            int rank = g.rank();
            int[] in = g.inSpatial();
            int[] out = g.outSpatial();
            int[] window = g.window();
            int[] strides = g.strides();
            int[] lo = g.padLo();
            inCount = product(in);
            outCount = product(out);
            size = product(window);
            taps = new int[outCount][];
            int[] outIndex = new int[rank];
            int[] tapIndex = new int[rank];
            int[] found = new int[size];
            for (int o = 0; o < outCount; o++) {
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
                        found[count++] = flat;
                    }
                    increment(tapIndex, window);
                }
                taps[o] = Arrays.copyOf(found, count);
                increment(outIndex, out);
            }
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
