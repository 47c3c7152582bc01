package org.convcl.internal;

import java.util.Arrays;

/** Rearrangements of a kernel's layout that gradients and transposed convolutions need. Stateless and thread-safe. */
public final class KernelLayout {
    private KernelLayout() {
    }

    /**
     * Flips every spatial axis of {@code kernel (*k, A, groups * B)} and swaps its channel axes within each
     * group, giving {@code (*k, B, groups * A)}: {@code result[k - 1 - t][b][j * A + a] = kernel[t][a][j * B + b]}
     * for group j. For a convolution kernel {@code (*k, Cin/groups, Cout)} this is the kernel of the input
     * gradient's convolution, {@code (*k, Cout/groups, Cin)}; with one group it is jax's
     * {@code transpose_kernel}. Applying it twice gives the kernel back.
     *
     * @param shape {@code (*k, A, groups * B)}
     */
    public static float[] flipSwap(float[] kernel, int[] shape, int groups) {
        float[] result = new float[kernel.length];
        flipSwapMoves(kernel.length, shape, groups, (to, from) -> result[to] = kernel[from]);
        return result;
    }

    /**
     * {@link #flipSwap(float[], int[], int)} on 16-bit values (float16 or bfloat16 bits): the same moves, so the
     * bits of the float32 form's values, NaN payloads included.
     */
    public static short[] flipSwap(short[] kernel, int[] shape, int groups) {
        short[] result = new short[kernel.length];
        flipSwapMoves(kernel.length, shape, groups, (to, from) -> result[to] = kernel[from]);
        return result;
    }

    /** One element's move of a rearrangement: {@code result[to] = kernel[from]}, whatever the element type. */
    private interface Move {
        void move(int to, int from);
    }

    /** Checks {@code shape} against {@code length} values and runs {@link #flipSwap}'s moves. */
    private static void flipSwapMoves(int length, int[] shape, int groups, Move move) {
        int rank = shape.length - 2;
        if (rank < 1) {
            throw new IllegalArgumentException("kernel: shape " + Arrays.toString(shape)
                    + " needs at least one spatial dim, so rank >= 3");
        }
        int a = shape[rank];
        int groupsTimesB = shape[rank + 1];
        if (groups < 1 || groupsTimesB % groups != 0) {
            throw new IllegalArgumentException("groups: " + groups + " does not divide the kernel's last dim "
                    + groupsTimesB + " of shape " + Arrays.toString(shape));
        }
        if (Arrays.stream(shape).asLongStream().reduce(1, Math::multiplyExact) != length) {
            throw new IllegalArgumentException("kernel: shape " + Arrays.toString(shape) + " does not hold the "
                    + length + " values given");
        }
        if (length == 0) {
            // No channels: nothing to move, however many taps the shape claims (it may claim billions).
            return;
        }
        int b = groupsTimesB / groups;
        int[] spatial = Arrays.copyOf(shape, rank);
        int taps = product(spatial);
        int tapSize = a * groupsTimesB;
        int[] tap = new int[rank];
        for (int t = 0; t < taps; t++) {
            int flipped = 0;
            for (int d = 0; d < rank; d++) {
                flipped = flipped * spatial[d] + (spatial[d] - 1 - tap[d]);
            }
            int from = t * tapSize;
            int to = flipped * tapSize;
            for (int group = 0; group < groups; group++) {
                for (int i = 0; i < a; i++) {
                    for (int j = 0; j < b; j++) {
                        move.move(to + j * (groups * a) + group * a + i, from + i * groupsTimesB + group * b + j);
                    }
                }
            }
            for (int d = rank - 1; d >= 0 && ++tap[d] == spatial[d]; d--) {
                tap[d] = 0;
            }
        }
    }

    /** The shape {@link #flipSwap} produces from {@code shape}: {@code (*k, B, groups * A)}. */
    public static int[] flipSwapShape(int[] shape, int groups) {
        int rank = shape.length - 2;
        int[] result = shape.clone();
        result[rank] = shape[rank + 1] / groups;
        result[rank + 1] = shape[rank] * groups;
        return result;
    }

    /** {@code values * mask} element-wise, as a new array; {@code values} itself when the mask is null. */
    public static float[] masked(float[] values, float[] mask) {
        if (mask == null) {
            return values;
        }
        float[] result = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            result[i] = values[i] * mask[i];
        }
        return result;
    }

    /** The product of {@code sizes}, unchecked (as {@code ConvGeometry}'s). */
    private static int product(int[] sizes) {
        int p = 1;
        for (int s : sizes) {
            p *= s;
        }
        return p;
    }
}
