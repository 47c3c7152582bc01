package org.convcl.backend.cpu.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.SplittableRandom;
import org.convcl.Padding;
import org.convcl.PoolGeometry;
import org.convcl.PoolOp;
import org.convcl.PoolSpec;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.backend.internal.HostPooling;
import org.convcl.backend.internal.PoolRowKernel;
import org.junit.jupiter.api.Test;

/**
 * The Java path's pooling rows ({@link CpuKernels#poolRows}, the Vector API form for MAX and MIN) give the plain
 * loops' bits: on values with NaNs of several payloads, signed zeros in ties and infinities, at channel counts
 * around the vector width (a scalar tail, fewer channels than a vector); then whole poolings through the backend
 * against {@link HostPooling}'s plain form. AVG runs the plain loops in both, so it is not compared here.
 */
class PoolRowKernelTest {
    private static final int ROWS = 9;
    private static final PoolOp[] SELECTIONS = {PoolOp.MAX, PoolOp.MIN};

    @Test
    void foldsRowsWithThePlainLoopsBits() {
        PoolRowKernel vector = vectorRows();
        int lanes = VectorConvKernel.lanes();
        SplittableRandom random = new SplittableRandom(27);
        for (PoolOp op : SELECTIONS) {
            for (int channels : new int[] {1, lanes - 1, lanes, lanes + 3, 4 * lanes, 4 * lanes + lanes - 1}) {
                // Ties of signed zeros need rows of zeros: NaNs and infinities soon absorb the accumulators.
                boolean zeros = channels % 2 == 0;
                float[] input = zeros ? signedZeros(random, ROWS * channels + 5)
                        : specialValues(random, ROWS * channels + 5);
                float[] expected = zeros ? signedZeros(random, channels) : start(random, channels);
                float[] actual = expected.clone();
                for (int row = 0; row < ROWS; row++) {
                    // Offset by 5 so that rows do not start on a vector boundary.
                    PoolRowKernel.SCALAR.accumulate(op, input, 5 + row * channels, expected, channels);
                    vector.accumulate(op, input, 5 + row * channels, actual, channels);
                }
                assertArrayEquals(bits(expected), bits(actual), op + " over " + channels + " channels");
            }
        }
    }

    @Test
    void backendMaxPoolingMatchesThePlainForm() {
        vectorRows();
        PoolSpec spec = PoolSpec.builder().window(3, 3).strides(2, 2)
                .padding(new Padding.Explicit(new int[] {1, 1}, new int[] {1, 1})).build();
        SplittableRandom random = new SplittableRandom(50);
        for (PoolOp op : SELECTIONS) {
            PoolGeometry g = spec.resolve(new int[] {2, 15, 13, 4 * VectorConvKernel.lanes() + 3});
            float[] input = specialValues(random, 2 * 15 * 13 * g.channels());
            float[] expected = new float[2 * g.outSpatial()[0] * g.outSpatial()[1] * g.channels()];
            float[] actual = expected.clone();
            HostPooling.forward(op, g, input, expected);
            CpuBackend.instance().poolForward(op, g, input, actual);
            assertArrayEquals(bits(expected), bits(actual), op.toString());
        }
    }

    private static PoolRowKernel vectorRows() {
        assumeTrue(CpuKernels.vectorApiAvailable(), "the Vector API module is not open in this JVM");
        PoolRowKernel rows = CpuKernels.poolRows();
        assertNotSame(PoolRowKernel.SCALAR, rows, "the Vector API is open but pooling takes the plain loops");
        return rows;
    }

    /** Gaussian values with NaNs (two payloads), signed zeros and infinities mixed in. */
    private static float[] specialValues(SplittableRandom random, int length) {
        float[] special = {Float.NaN, Float.intBitsToFloat(0x7fc01234), 0f, -0f, Float.POSITIVE_INFINITY,
            Float.NEGATIVE_INFINITY};
        float[] values = new float[length];
        for (int i = 0; i < length; i++) {
            int pick = random.nextInt(12);
            values[i] = pick < special.length ? special[pick] : (float) random.nextGaussian();
        }
        return values;
    }

    private static float[] signedZeros(SplittableRandom random, int length) {
        float[] values = new float[length];
        for (int i = 0; i < length; i++) {
            values[i] = random.nextBoolean() ? 0f : -0f;
        }
        return values;
    }

    /** Accumulators as pooling starts them, or already holding values (a NaN, a zero of either sign). */
    private static float[] start(SplittableRandom random, int channels) {
        return specialValues(random, channels);
    }

    private static int[] bits(float[] values) {
        int[] bits = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            bits[i] = Float.floatToRawIntBits(values[i]);
        }
        return bits;
    }
}
