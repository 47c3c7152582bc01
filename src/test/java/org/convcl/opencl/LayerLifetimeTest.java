package org.convcl.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.convcl.nn.Conv;
import org.convcl.ConvSpec;
import org.convcl.nn.ConvTranspose;
import org.convcl.ConvTransposeSpec;
import org.convcl.nn.DeviceGradients;
import org.convcl.Tensor;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.testing.OpenClTesting;
import org.convcl.testing.RandomTensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Layers are closable: {@code close()} releases the kernel, bias and mask copies they keep on an OpenCL device
 * (seen in the live objects of a private backend, which nothing else touches), leaves the backend open, and
 * every later apply or backward call, on host or device tensors, is refused naming the layer.
 */
class LayerLifetimeTest {
    private static final SplittableRandom RANDOM = new SplittableRandom(5);
    private static final Tensor X = RandomTensors.uniform(RANDOM, 2, 6, 5, 3);
    private static final Tensor KERNEL = RandomTensors.uniform(RANDOM, 3, 3, 3, 4);
    private static final Tensor MASK = RandomTensors.uniform(RANDOM, 3, 3, 3, 4);
    private static final Tensor BIAS = RandomTensors.uniform(RANDOM, 4);
    private static final float DELTA = 1e-4f;

    @Test
    void convInTryWithResourcesReleasesItsDeviceCopiesAndRefusesUseAfterwards() {
        try (OpenClBackend backend = OpenClBackend.create(OpenClTesting.device());
                DeviceTensor x = backend.upload(X)) {
            ConvSpec spec = ConvSpec.builder().strides(2).build();
            Tensor expected;
            try (Conv cpu = Conv.builder(KERNEL).bias(BIAS).mask(MASK).spec(spec).backend(CpuBackend.instance())
                    .build()) {
                expected = cpu.apply(X);
            }
            Tensor dy = RandomTensors.uniform(RANDOM, expected.shape());
            DeviceTensor deviceDy = backend.upload(dy); // closed with the backend
            Conv closed;
            long withoutCopies;
            try (Conv layer = Conv.builder(KERNEL).bias(BIAS).mask(MASK).spec(spec).backend(backend).build()) {
                closed = layer;
                // A first round compiles the plans; releasing the copies then leaves what the backend keeps.
                runOnDevice(layer, x, deviceDy, expected);
                layer.releaseDeviceParameters();
                withoutCopies = backend.buffersInUse();
                runOnDevice(layer, x, deviceDy, expected);
                assertEquals(withoutCopies + 4, backend.buffersInUse(), "after a forward and a backward call the "
                        + "layer keeps its kernel, bias, mask and the kernel flipped for dx on the device");
            }
            assertEquals(withoutCopies, backend.buffersInUse(), "closing the layer releases its copies");
            assertTrue(closed.isClosed());
            assertFalse(backend.isClosed(), "the layer does not own its backend");
            assertRefused(closed.toString(), () -> closed.apply(x), () -> closed.apply(X),
                    () -> closed.backward(X, dy), () -> closed.backward(x, x));
            assertEquals(withoutCopies, backend.buffersInUse(), "a refused call uploads nothing");
            closed.close(); // idempotent
            assertArrayEquals(KERNEL.shape(), closed.geometry(X.shape()).kernelShape(), "accessors still answer");
        }
    }

    @Test
    void convTransposeInTryWithResourcesReleasesItsDeviceCopiesAndRefusesUseAfterwards() {
        try (OpenClBackend backend = OpenClBackend.create(OpenClTesting.device());
                DeviceTensor x = backend.upload(X)) {
            ConvTransposeSpec spec = ConvTransposeSpec.builder().strides(2).build();
            Tensor expected;
            try (ConvTranspose cpu = ConvTranspose.builder(KERNEL).bias(BIAS).spec(spec)
                    .backend(CpuBackend.instance()).build()) {
                expected = cpu.apply(X);
            }
            ConvTranspose closed;
            long withoutCopies;
            try (ConvTranspose layer = ConvTranspose.builder(KERNEL).bias(BIAS).spec(spec).backend(backend).build()) {
                closed = layer;
                applyOnDevice(layer, x, expected);
                layer.releaseDeviceParameters();
                withoutCopies = backend.buffersInUse();
                applyOnDevice(layer, x, expected);
                assertEquals(withoutCopies + 2, backend.buffersInUse(),
                        "after a device call the layer keeps its kernel and bias on the device");
            }
            assertEquals(withoutCopies, backend.buffersInUse(), "closing the layer releases its copies");
            assertFalse(backend.isClosed(), "the layer does not own its backend");
            Tensor dy = Tensor.zeros(expected.shape());
            assertRefused(closed.toString(), () -> closed.apply(x), () -> closed.apply(X),
                    () -> closed.backward(X, dy), () -> closed.backward(x, x));
            assertEquals(withoutCopies, backend.buffersInUse(), "a refused call uploads nothing");
            closed.close(); // idempotent
        }
    }

    @Test
    void callsRacingWithCloseEitherFinishOrAreRefusedAndLeaveNoCopyBehind() throws Exception {
        try (OpenClBackend backend = OpenClBackend.create(OpenClTesting.device());
                DeviceTensor x = backend.upload(X)) {
            Conv layer = Conv.builder(KERNEL).bias(BIAS).backend(backend).build();
            layer.apply(x).close(); // compiles the plan
            layer.releaseDeviceParameters();
            long withoutCopies = backend.buffersInUse();
            int threads = 4;
            CountDownLatch running = new CountDownLatch(threads);
            AtomicInteger refusals = new AtomicInteger();
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                List<Future<?>> callers = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    callers.add(pool.submit(() -> {
                        running.countDown();
                        while (true) {
                            try (DeviceTensor y = layer.apply(x)) {
                                y.download();
                            } catch (IllegalStateException refused) {
                                refusals.incrementAndGet();
                                return null;
                            }
                        }
                    }));
                }
                running.await();
                layer.close();
                for (Future<?> caller : callers) {
                    caller.get(60, TimeUnit.SECONDS);
                }
            } finally {
                pool.shutdownNow();
            }
            assertEquals(threads, refusals.get(), "every caller ends refused once the layer is closed");
            assertEquals(withoutCopies, backend.buffersInUse(),
                    "no call racing with close leaves a device copy behind");
        }
    }

    @Test
    void aLayerThatNeverMetADeviceClosesAndRefusesHostCalls() {
        Conv conv = Conv.builder(KERNEL).bias(BIAS).backend(CpuBackend.instance()).build();
        ConvTranspose transpose = ConvTranspose.builder(KERNEL).backend(CpuBackend.instance()).build();
        Tensor convOut = conv.apply(X);
        Tensor transposeOut = transpose.apply(X);
        conv.close();
        transpose.close();
        assertEquals("Conv(kernel [3, 3, 3, 4], bias)", conv.toString());
        assertEquals("ConvTranspose(kernel [3, 3, 3, 4])", transpose.toString());
        assertRefused(conv.toString(), () -> conv.apply(X), () -> conv.backward(X, convOut));
        assertRefused(transpose.toString(), () -> transpose.apply(X), () -> transpose.backward(X, transposeOut));
    }

    /** Forward and backward on device tensors, the forward checked against the Java path. */
    private static void runOnDevice(Conv layer, DeviceTensor x, DeviceTensor dy, Tensor expected) {
        try (DeviceTensor y = layer.apply(x); DeviceGradients gradients = layer.backward(x, dy)) {
            assertArrayEquals(expected.data(), y.download().data(), DELTA);
            gradients.download();
        }
    }

    private static void applyOnDevice(ConvTranspose layer, DeviceTensor x, Tensor expected) {
        try (DeviceTensor y = layer.apply(x)) {
            assertArrayEquals(expected.data(), y.download().data(), DELTA);
        }
    }

    private static void assertRefused(String layer, Executable... calls) {
        for (Executable call : calls) {
            IllegalStateException refused = assertThrows(IllegalStateException.class, call);
            assertTrue(refused.getMessage().startsWith(layer + " has been closed: its kernel and bias copies on "
                    + "OpenCL devices were released and it refuses apply and backward calls"), refused.getMessage());
        }
    }
}
