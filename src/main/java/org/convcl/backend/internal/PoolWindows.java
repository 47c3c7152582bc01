package org.convcl.backend.internal;

import java.util.Arrays;
import org.convcl.PoolGeometry;

/**
 * The windows of a geometry: {@link #fill} lists, for one output position, the flat spatial indices of the
 * real input elements its window covers, in row-major window order (padding left out).
 */
final class PoolWindows {
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

    PoolWindows(PoolGeometry g) {
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

    /** The next row-major multi-index (the last dim fastest). */
    private static void increment(int[] index, int[] sizes) {
        for (int d = index.length - 1; d >= 0; d--) {
            if (++index[d] < sizes[d]) {
                return;
            }
            index[d] = 0;
        }
    }

    private static int product(int[] sizes) {
        int product = 1;
        for (int size : sizes) {
            product *= size;
        }
        return product;
    }
}
