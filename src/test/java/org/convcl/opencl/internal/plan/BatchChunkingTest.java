package org.convcl.opencl.internal.plan;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.concurrent.CancellationException;
import org.convcl.ConvGeometry;
import org.convcl.ConvSpec;
import org.convcl.Tensor;
import org.convcl.opencl.OpenClBackend;
import org.convcl.opencl.device.OpenClDevice;
import org.convcl.opencl.internal.runtime.NativeResources;
import org.convcl.testing.OpenClTesting;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 7's device limits: a batch whose buffers exceed the device's allocation limit or memory runs in
 * chunks along the batch with the same result; what cannot be split is refused naming the sizes; an
 * interrupted caller stops between chunks and frees what it held.
 */
class BatchChunkingTest {
    private static final String MAX_ALLOCATION = "convcl.opencl.maxAllocationBytes";

    // 7 elements of (10, 9, 6) -> (10, 9, 8) with a 3x3 kernel: 2160 input and 2880 output bytes each.
    private final ConvGeometry geometry = ConvSpec.defaults().resolve(new int[] {7, 10, 9, 6},
            new int[] {3, 3, 6, 8});

    @AfterEach
    void clearLimits() {
        System.clearProperty(MAX_ALLOCATION);
    }

    @Test
    void chunkSizesFollowTheLimits() {
        assertEquals(7, BatchChunks.of(1 << 30, 1L << 32).elementsPerChunk(geometry, true));
        assertEquals(2, BatchChunks.of(2 * 2880, 1L << 32).elementsPerChunk(geometry, true));
        long kernelAndBias = 4 * (3 * 3 * 6 * 8 + 8);
        assertEquals(3, BatchChunks.of(1 << 30, kernelAndBias + 3 * (2160 + 2880)).elementsPerChunk(geometry, true));
    }

    @Test
    void whatCannotBeSplitIsRefusedNamingTheSizes() {
        IllegalArgumentException element = assertThrows(IllegalArgumentException.class,
                () -> BatchChunks.of(2000, 1L << 32).elementsPerChunk(geometry, false));
        assertTrue(element.getMessage().contains("2160 bytes of input") && element.getMessage().contains("2000 bytes"),
                element.getMessage());
        IllegalArgumentException kernel = assertThrows(IllegalArgumentException.class,
                () -> BatchChunks.of(1000, 1L << 32).elementsPerChunk(geometry, false));
        assertTrue(kernel.getMessage().startsWith("kernel: 1728 bytes"), kernel.getMessage());
    }

    @Test
    void chunkedCallsGiveTheSameResult() {
        OpenClDevice device = OpenClTesting.device();
        SplittableRandom random = new SplittableRandom(5);
        float[] input = values(random, 7 * 10 * 9 * 6);
        float[] kernel = values(random, 3 * 3 * 6 * 8);
        float[] bias = values(random, 8);
        float[] whole = new float[7 * 10 * 9 * 8];
        float[] chunked = new float[whole.length];
        NativeResources.Counts start = NativeResources.snapshot();
        try (OpenClBackend backend = OpenClBackend.create(device)) {
            backend.forward(geometry, input, kernel, bias, whole);
        }
        System.setProperty(MAX_ALLOCATION, Integer.toString(2 * 2880));
        try (OpenClBackend backend = OpenClBackend.create(device)) {
            backend.forward(geometry, input, kernel, bias, chunked);
            float[] tooSmall = new float[whole.length];
            System.setProperty(MAX_ALLOCATION, "2000");
            try (OpenClBackend tiny = OpenClBackend.create(device)) {
                assertThrows(IllegalArgumentException.class, () -> tiny.forward(geometry, input, kernel, bias, tooSmall));
            }
        }
        assertArrayEquals(whole, chunked, "chunks of 2 batch elements give what one launch gives");
        assertEquals(start, NativeResources.snapshot(), "everything released");
    }

    @Test
    void interruptedCallerStopsBetweenChunksAndReleasesItsBuffers() {
        OpenClDevice device = OpenClTesting.device();
        ConvGeometry many = ConvSpec.defaults().resolve(new int[] {400, 10, 9, 6}, new int[] {3, 3, 6, 8});
        float[] input = new float[400 * 10 * 9 * 6];
        float[] kernel = new float[3 * 3 * 6 * 8];
        float[] output = new float[400 * 10 * 9 * 8];
        NativeResources.Counts start = NativeResources.snapshot();
        System.setProperty(MAX_ALLOCATION, Integer.toString(2880));
        try (OpenClBackend backend = OpenClBackend.create(device)) {
            backend.forward(many, input, kernel, null, output); // warm: the plan is built
            NativeResources.Counts warm = NativeResources.snapshot();
            Thread.currentThread().interrupt();
            try {
                assertThrows(CancellationException.class, () -> backend.forward(many, input, kernel, null, output));
                assertTrue(Thread.currentThread().isInterrupted(), "the interrupt flag is kept");
            } finally {
                Thread.interrupted();
            }
            assertEquals(warm, NativeResources.snapshot(), "the interrupted call kept nothing");
        }
        assertEquals(start, NativeResources.snapshot(), "everything released");
    }

    private static float[] values(SplittableRandom random, int count) {
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = (float) (random.nextDouble() * 2 - 1);
        }
        return values;
    }
}
