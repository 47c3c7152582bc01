package org.convcl.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.convcl.ConvGeometry;
import org.convcl.EdgeMode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A warmed-up forward on the Java path allocates far less than its output: the kernels reuse their threads'
 * scratch and their prepared kernels. On the sequential backend, so every byte is the calling thread's. The bound
 * is loose (a quarter of the output) because the Vector API allocates temporaries until C2 has compiled each
 * kernel; before the scratch was reused a forward allocated several times its output.
 */
class KernelAllocationTest {
    private static final int WARM_UP_CALLS = 3000;

    static Stream<Arguments> paths() {
        return Stream.of(
                // 64 channels, whole 4-vector blocks: at 32 (narrower blocks) these two cases allocated about 50 KB a
                // call when they ran first in their JVM, and nothing in the other order (JIT-dependent; not this
                // test's subject).
                Arguments.of("direct rows (5x5 stride 1)", geometry(16, 64, 5, 1, 2)),
                Arguments.of("patch matrix (3x3 stride 2, 8 x 8 outputs)", geometry(16, 32, 3, 2, 1)),
                Arguments.of("winograd phases (3x3 stride 2, 16 x 16 outputs)", geometry(32, 32, 3, 2, 1)),
                Arguments.of("winograd (3x3 stride 1)", geometry(16, 64, 3, 1, 1)),
                Arguments.of("pointwise (1x1)", geometry(16, 64, 1, 1, 0)),
                Arguments.of("patch panel (7x7 stride 2, 3 channels)", stem()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("paths")
    void warmForwardAllocatesFarLessThanItsOutput(String path, ConvGeometry g) {
        SplittableRandom random = new SplittableRandom(27);
        float[] input = values(random, size(g.inputShape()));
        float[] kernel = values(random, size(g.kernelShape()));
        float[] bias = values(random, g.outChannels());
        float[] output = new float[size(g.outputShape())];
        CpuBackend backend = CpuBackend.sequential();
        for (int i = 0; i < WARM_UP_CALLS; i++) {
            backend.forward(g, input, kernel, bias, output);
        }
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        backend.forward(g, input, kernel, bias, output);
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        long outputBytes = (long) output.length * Float.BYTES;
        assertTrue(allocated < outputBytes / 4,
                path + ": allocated " + allocated + " bytes, output " + outputBytes + " bytes");
    }

    private static ConvGeometry geometry(int size, int channels, int taps, int stride, int pad) {
        return ConvGeometry.explicit(new int[] {1}, new int[] {size, size}, channels, new int[] {taps, taps}, channels,
                1, new int[] {stride, stride}, new int[] {1, 1}, new int[] {1, 1}, new int[] {pad, pad},
                new int[] {pad, pad}, EdgeMode.ZERO);
    }

    private static ConvGeometry stem() {
        return ConvGeometry.explicit(new int[] {1}, new int[] {32, 32}, 3, new int[] {7, 7}, 64, 1,
                new int[] {2, 2}, new int[] {1, 1}, new int[] {1, 1}, new int[] {3, 3}, new int[] {3, 3},
                EdgeMode.ZERO);
    }

    private static int size(int[] shape) {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }

    private static float[] values(SplittableRandom random, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextDouble(-1, 1);
        }
        return v;
    }
}
