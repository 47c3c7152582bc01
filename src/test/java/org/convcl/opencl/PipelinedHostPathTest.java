package org.convcl.opencl;

import org.convcl.opencl.device.OpenClDevice;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.SplittableRandom;
import org.convcl.nn.Conv;
import org.convcl.ConvGeometry;
import org.convcl.ConvSpec;
import org.convcl.Tensor;
import org.convcl.opencl.internal.plan.BatchChunks;
import org.convcl.opencl.internal.runtime.StagingPolicy;
import org.convcl.testing.OpenClTesting;
import org.convcl.testing.RandomTensors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Issue 12's host arrays at link speed: the batch runs in chunks that pipeline through pinned staging memory,
 * and tensors move in staged pieces. Whatever the chunk and piece sizes and however many chunks are in flight,
 * the results are bitwise those of one unchunked call with direct copies (what a CPU device such as PoCL runs by
 * default); a layer's host-array calls upload its kernel once and again only when its values change.
 */
class PipelinedHostPathTest {
    private static final String CHUNK_BYTES = "convcl.opencl.pipelineChunkBytes";
    private static final String MEMORY = "convcl.opencl.memoryBytes";

    // 7 elements of (10, 9, 6) -> (10, 9, 8) with a 3x3 kernel: 2160 input and 2880 output bytes each.
    private final ConvGeometry geometry = ConvSpec.defaults().resolve(new int[] {7, 10, 9, 6},
            new int[] {3, 3, 6, 8});
    private static final long KERNEL_AND_BIAS = 4 * (3 * 3 * 6 * 8 + 8);

    @BeforeEach
    void stageEverything() {
        // PoCL is a CPU device, where host arrays are copied directly by default: the staged path is forced here.
        System.setProperty(StagingPolicy.PROPERTY, "true");
    }

    @AfterEach
    void clearSettings() {
        System.clearProperty(CHUNK_BYTES);
        System.clearProperty(MEMORY);
        System.clearProperty(StagingPolicy.PROPERTY);
    }

    @Test
    void chunksAimAtTheTargetAndShrinkToFitTheSlots() {
        assertEquals(new BatchChunks.Pipeline(7, 1), BatchChunks.of(1 << 30, 1L << 32).pipeline(geometry, true));
        assertEquals(new BatchChunks.Pipeline(2, 3), BatchChunks.of(1 << 30, 1L << 32, 2 * 2880).pipeline(geometry, true));
        // Room for two elements besides the kernel: three slots of one element do not fit, two do.
        long twoElements = KERNEL_AND_BIAS + 2 * (2160 + 2880);
        assertEquals(new BatchChunks.Pipeline(1, 2), BatchChunks.of(1 << 30, twoElements, 2880).pipeline(geometry, true));
        // Room for six: the wanted chunk of 3 shrinks to 2 so that three slots fit.
        long sixElements = KERNEL_AND_BIAS + 6 * (2160 + 2880);
        assertEquals(new BatchChunks.Pipeline(2, 3), BatchChunks.of(1 << 30, sixElements, 3 * 2880).pipeline(geometry, true));
        long oneElement = KERNEL_AND_BIAS + (2160 + 2880);
        assertEquals(new BatchChunks.Pipeline(1, 1), BatchChunks.of(1 << 30, oneElement).pipeline(geometry, true));
    }

    @ParameterizedTest(name = "chunk target {0} bytes, device memory {1}: chunks of {2} in {3} slots")
    @CsvSource({
        "1, 0, 1, 3",
        "5760, 0, 2, 3", // 7 = 2 + 2 + 2 + 1
        "8640, 0, 3, 3",
        "2880, 18000, 1, 2", // 3/4 of the memory holds the kernel and two elements
        "2880, 10000, 1, 1",
    })
    void pipelinedChunksGiveBitwiseTheDirectUnchunkedResult(int chunkBytes, long memoryBytes, int chunk, int slots) {
        OpenClDevice device = OpenClTesting.device();
        SplittableRandom random = new SplittableRandom(11);
        float[] input = RandomTensors.uniform(random, 7, 10, 9, 6).data();
        float[] kernel = RandomTensors.uniform(random, 3, 3, 6, 8).data();
        float[] bias = RandomTensors.uniform(random, 8).data();
        float[] whole = new float[7 * 10 * 9 * 8];
        float[] chunked = new float[whole.length];
        float[] chunkedWithoutBias = new float[whole.length];
        float[] wholeWithoutBias = new float[whole.length];
        System.setProperty(StagingPolicy.PROPERTY, "false");
        try (OpenClBackend backend = OpenClBackend.create(device)) {
            // Direct copies, one launch for the whole batch: the reference.
            backend.forward(geometry, input, kernel, bias, whole);
            backend.forward(geometry, input, kernel, null, wholeWithoutBias);
        }
        System.setProperty(StagingPolicy.PROPERTY, "true");
        System.setProperty(CHUNK_BYTES, Integer.toString(chunkBytes));
        if (memoryBytes > 0) {
            System.setProperty(MEMORY, Long.toString(memoryBytes));
        }
        try (OpenClBackend backend = OpenClBackend.create(device)) {
            assertEquals(new BatchChunks.Pipeline(chunk, slots), BatchChunks.forDevice(device).pipeline(geometry, true));
            // Twice: the second call runs on pooled device buffers and staging, whatever the first left in them.
            for (int round = 0; round < 2; round++) {
                backend.forward(geometry, input, kernel, bias, chunked);
                assertArrayEquals(whole, chunked, "round " + round);
                backend.forward(geometry, input, kernel, null, chunkedWithoutBias);
                assertArrayEquals(wholeWithoutBias, chunkedWithoutBias, "round " + round + ", no bias");
            }
        }
    }

    @ParameterizedTest(name = "pieces of {0} bytes")
    @CsvSource({"4", "12", "4096", "4194304"})
    void tensorsMoveInStagedPiecesUnchanged(int pieceBytes) {
        System.setProperty(CHUNK_BYTES, Integer.toString(pieceBytes));
        SplittableRandom random = new SplittableRandom(pieceBytes);
        Tensor values = RandomTensors.uniform(random, 3, 37, 11);
        Tensor other = RandomTensors.uniform(random, 3, 37, 11);
        try (OpenClBackend backend = OpenClBackend.create(OpenClTesting.device());
                DeviceTensor tensor = backend.upload(values)) {
            assertArrayEquals(values.data(), tensor.download().data(), "upload then download");
            tensor.write(other);
            assertArrayEquals(other.data(), tensor.download().data(), "write then download");
        }
    }

    /**
     * Pieces of over half a million floats are copied to and from staging by several threads at once
     * (HostCopy's parts of 256 Ki floats): a tensor of 1.3 M floats in pieces of the default 4 MiB, one piece
     * split in four parts and one in two, comes back unchanged.
     */
    @Test
    void largePiecesCopiedByManyThreadsArriveUnchanged() {
        SplittableRandom random = new SplittableRandom(19);
        Tensor values = RandomTensors.uniform(random, 5, 512, 512);
        try (OpenClBackend backend = OpenClBackend.create(OpenClTesting.device());
                DeviceTensor tensor = backend.upload(values)) {
            assertArrayEquals(values.data(), tensor.download().data());
        }
    }

    @Test
    void aLayersHostCallsUploadItsKernelOnceAndAgainOnlyWhenItChanges() {
        SplittableRandom random = new SplittableRandom(17);
        Tensor x = RandomTensors.uniform(random, 7, 10, 9, 6);
        Tensor kernel = RandomTensors.uniform(random, 3, 3, 6, 8);
        Tensor bias = RandomTensors.uniform(random, 8);
        try (OpenClBackend backend = OpenClBackend.create(OpenClTesting.device());
                Conv layer = Conv.builder(kernel).bias(bias).backend(backend).build()) {
            Tensor first = layer.apply(x);
            long uploaded = backend.uploadedFloats();
            long created = backend.buffersCreated();
            Tensor second = layer.apply(x);
            assertEquals(x.size(), backend.uploadedFloats() - uploaded, "a second call uploads its input alone");
            assertEquals(created, backend.buffersCreated(), "and allocates nothing");
            assertArrayEquals(first.data(), second.data());
            assertArrayEquals(explicit(backend, x, kernel, bias), first.data(),
                    "resident weights give what a call uploading them gives");

            // A training step changes the kernel in place without telling the layer.
            kernel.data()[5] += 0.5f;
            uploaded = backend.uploadedFloats();
            Tensor changed = layer.apply(x);
            assertEquals(x.size() + kernel.size() + bias.size(), backend.uploadedFloats() - uploaded,
                    "the changed parameters are uploaded again");
            assertArrayEquals(explicit(backend, x, kernel, bias), changed.data(), "with their current values");
            assertFalse(java.util.Arrays.equals(first.data(), changed.data()), "which changed the result");
        }
    }

    @Test
    void aHostCallAfterDeviceCallsAloneUsesTheKernelChangedInPlace() {
        SplittableRandom random = new SplittableRandom(18);
        Tensor x = RandomTensors.uniform(random, 7, 10, 9, 6);
        Tensor kernel = RandomTensors.uniform(random, 3, 3, 6, 8);
        Tensor bias = RandomTensors.uniform(random, 8);
        try (OpenClBackend backend = OpenClBackend.create(OpenClTesting.device());
                Conv layer = Conv.builder(kernel).bias(bias).backend(backend).build();
                DeviceTensor deviceX = backend.upload(x)) {
            layer.apply(deviceX).close();
            float[] before = explicit(backend, x, kernel, bias);
            // Device calls keep no host copy of the kernel to compare against, so this call uploads it anew.
            kernel.data()[5] += 0.5f;
            Tensor changed = layer.apply(x);
            assertArrayEquals(explicit(backend, x, kernel, bias), changed.data(), "the kernel's current values");
            assertFalse(java.util.Arrays.equals(before, changed.data()), "which changed the result");
        }
    }

    private float[] explicit(OpenClBackend backend, Tensor x, Tensor kernel, Tensor bias) {
        float[] out = new float[(int) Tensor.elementCount(geometry.outputShape())];
        backend.forward(geometry, x.data(), kernel.data(), bias.data(), out);
        return out;
    }
}
