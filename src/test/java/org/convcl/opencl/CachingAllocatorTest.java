package org.convcl.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.convcl.nn.Conv;
import org.convcl.nn.ConvGradients;
import org.convcl.ConvSpec;
import org.convcl.nn.ConvTranspose;
import org.convcl.ConvTransposeSpec;
import org.convcl.Tensor;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.opencl.internal.runtime.BufferPool;
import org.convcl.opencl.internal.runtime.NativeResources;
import org.convcl.testing.OpenClBackendPerTest;
import org.convcl.testing.RandomTensors;
import org.convcl.testing.Tolerance;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Timeout;

/**
 * The backend's caching allocator: chains of layer calls on device tensors reuse memory instead of creating
 * buffers, results stay right when memory is reused, and the cache gives memory back when asked.
 */
class CachingAllocatorTest {
    @RegisterExtension
    final OpenClBackendPerTest opencl = new OpenClBackendPerTest();

    @Test
    void aThousandChainedCallsCreateNoBufferAfterWarmUp() {
        SplittableRandom random = new SplittableRandom(3);
        Tensor x = RandomTensors.uniform(random, 2, 12, 12, 8);
        try (Conv first = Conv.builder(RandomTensors.uniform(random, 3, 3, 8, 8)).bias(RandomTensors.uniform(random, 8))
                     .backend(opencl.backend()).build();
             Conv second = Conv.builder(RandomTensors.uniform(random, 3, 3, 8, 4)).spec(ConvSpec.builder().strides(2).build())
                     .backend(opencl.backend()).build();
             DeviceTensor input = opencl.backend().upload(x)) {
            Tensor expected = second.apply(first.apply(x)); // the host path, for the values
            chain(first, second, input).close(); // warm-up: weights, plans, the first buffers
            long createdAfterWarmUp = opencl.backend().buffersCreated();
            for (int i = 0; i < 1000; i++) {
                chain(first, second, input).close();
            }
            assertEquals(createdAfterWarmUp, opencl.backend().buffersCreated(),
                    "steady-state chains allocate no cl_mem");
            try (DeviceTensor last = chain(first, second, input)) {
                Tensor got = last.download();
                assertTrue(Tolerance.relativeL2(Tolerance.toDouble(expected.data()), got.data()) < 1e-5,
                        "a chain on reused memory computes what the host path does");
            }
        }
    }

    /** first then second on the device; the intermediate goes back to the allocator at once. */
    private static DeviceTensor chain(Conv first, Conv second, DeviceTensor input) {
        try (DeviceTensor hidden = first.apply(input)) {
            return second.apply(hidden);
        }
    }

    /**
     * Input dilation runs the phased GEMM, whose per-phase bias rows are a temporary of each call: they come from
     * the caching allocator, so loops of strided input gradients and transposed convolutions (host arrays, whose
     * batch runs in chunks, and device tensors) create no cl_mem after their first round, not even one freed again.
     */
    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void loopsOfStridedInputGradientsAndTransposedConvolutionsCreateNoBufferAfterWarmUp() {
        SplittableRandom random = new SplittableRandom(11);
        Tensor x = RandomTensors.uniform(random, 3, 9, 9, 8);
        Tensor kernel = RandomTensors.uniform(random, 3, 3, 8, 8);
        Tensor bias = RandomTensors.uniform(random, 8);
        try (Conv strided = Conv.builder(kernel).bias(bias).spec(ConvSpec.builder().strides(2).build())
                     .backend(opencl.backend()).build();
             ConvTranspose up = ConvTranspose.builder(kernel).bias(bias)
                     .spec(ConvTransposeSpec.builder().strides(2).build()).backend(opencl.backend()).build();
             DeviceTensor deviceX = opencl.backend().upload(x)) {
            Tensor dy = RandomTensors.uniform(random, strided.outputShape(x.shape()));
            // Warm-up: plans, probes, the layers' resident weights, the first buffers; and a second round, since
            // the resident weights made during the first change which free buffers the best fit hands out, so
            // two of the first round's temporaries find theirs taken once and are made again.
            round(strided, up, x, dy, deviceX);
            round(strided, up, x, dy, deviceX);
            long created = NativeResources.buffersCreated();
            for (int i = 0; i < 20; i++) {
                round(strided, up, x, dy, deviceX);
            }
            assertEquals(created, NativeResources.buffersCreated(), "steady-state strided input gradients and "
                    + "transposed convolutions create no cl_mem");
            // The reused rows hold each call's own values: the results are the Java path's.
            Conv stridedOnCpu = Conv.builder(kernel).bias(bias).spec(strided.spec())
                    .backend(CpuBackend.instance()).build();
            ConvTranspose upOnCpu = ConvTranspose.builder(kernel).bias(bias).spec(up.spec())
                    .backend(CpuBackend.instance()).build();
            assertClose(stridedOnCpu.backward(x, dy).dx(), strided.backward(x, dy).dx(), "strided input gradient");
            Tensor expectedUp = upOnCpu.apply(x);
            assertClose(expectedUp, up.apply(x), "transposed convolution of host arrays");
            try (DeviceTensor y = up.apply(deviceX)) {
                assertClose(expectedUp, y.download(), "transposed convolution of device tensors");
            }
        }
    }

    /** One strided input gradient (host arrays) and one transposed convolution of host arrays and of device tensors. */
    private static void round(Conv strided, ConvTranspose up, Tensor x, Tensor dy, DeviceTensor deviceX) {
        ConvGradients gradients = strided.backward(x, dy);
        assertEquals(x.size(), gradients.dx().size());
        up.apply(x);
        up.apply(deviceX).close();
    }

    private static void assertClose(Tensor expected, Tensor got, String what) {
        double error = Tolerance.relativeL2(Tolerance.toDouble(expected.data()), got.data());
        assertTrue(error < 1e-5, what + ": relative L2 error " + error + " against the Java path");
    }

    @Test
    void applyIntoACallersOutputAllocatesNothingAndOverwrites() {
        SplittableRandom random = new SplittableRandom(5);
        Tensor x = RandomTensors.uniform(random, 3, 10, 9, 6);
        try (Conv conv = Conv.builder(RandomTensors.uniform(random, 3, 2, 6, 5)).backend(opencl.backend()).build();
             DeviceTensor input = opencl.backend().upload(x);
             DeviceTensor out = opencl.backend().allocate(conv.geometry(x.shape()).outputShape())) {
            conv.apply(input, out);
            long created = opencl.backend().buffersCreated();
            for (int i = 0; i < 50; i++) {
                conv.apply(input, out);
            }
            assertEquals(created, opencl.backend().buffersCreated());
            Conv onCpu = Conv.builder(conv.kernel()).backend(CpuBackend.instance()).build();
            assertTrue(Tolerance.relativeL2(Tolerance.toDouble(onCpu.apply(x).data()), out.download().data()) < 1e-5,
                    "apply(x, out) computes what the Java path does");
        }
    }

    @Test
    void reusedMemoryOfAnotherSizeClassIsNotHandedOutAndTrimReleasesTheFreeBuffers() {
        long live = NativeResources.liveBuffers();
        try (DeviceTensor small = opencl.backend().allocate(100)) {
            assertEquals(live + 1, NativeResources.liveBuffers());
        }
        // A request within the same class reuses the buffer; a much larger one may not take it.
        try (DeviceTensor sameClass = opencl.backend().allocate(120)) {
            assertEquals(live + 1, NativeResources.liveBuffers(), "100 and 120 floats share a size class");
        }
        try (DeviceTensor larger = opencl.backend().allocate(1 << 20)) {
            assertEquals(live + 2, NativeResources.liveBuffers(), "a 4 MiB tensor needs a buffer of its own");
        }
        long both = BufferPool.sizeClass(100 * Float.BYTES) + BufferPool.sizeClass((1 << 20) * Float.BYTES);
        assertEquals(both, opencl.backend().bufferBytesCreated(), "the bytes created, in size classes");
        assertEquals(BufferPool.sizeClass((1 << 20) * Float.BYTES), opencl.backend().peakBufferBytesInUse(),
                "the most in use at once: the larger tensor alone");
        try (DeviceTensor small = opencl.backend().allocate(100);
                DeviceTensor larger = opencl.backend().allocate(1 << 20)) {
            assertEquals(both, opencl.backend().peakBufferBytesInUse(), "both at once, from the pooled buffers");
        }
        opencl.backend().trimMemory();
        assertEquals(live, NativeResources.liveBuffers(), "trim releases every free buffer");
    }

    @Test
    void sizeClassesRoundUpToSmallAndLargeGranules() {
        assertEquals(512, BufferPool.sizeClass(1));
        assertEquals(1024, BufferPool.sizeClass(513));
        assertEquals(1L << 20, BufferPool.sizeClass((1L << 20) - 1));
        assertEquals(2L << 20, BufferPool.sizeClass((1L << 20) + 1));
        for (long bytes = 1; bytes < (8L << 20); bytes = bytes * 3 + 7) {
            long size = BufferPool.sizeClass(bytes);
            long granule = bytes < BufferPool.LARGE_GRANULE ? BufferPool.SMALL_GRANULE : BufferPool.LARGE_GRANULE;
            assertTrue(size >= bytes && size - bytes < granule && size % granule == 0, bytes + " -> " + size);
        }
    }
}
