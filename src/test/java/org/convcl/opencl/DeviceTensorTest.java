package org.convcl.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.convcl.nn.Conv;
import org.convcl.ConvSpec;
import org.convcl.Padding;
import org.convcl.Tensor;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.testing.OpenClBackendPerTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Device-resident tensors: round trips, chaining layers on the device, parameter re-upload, lifetimes. */
class DeviceTensorTest {
    @RegisterExtension
    final OpenClBackendPerTest opencl = new OpenClBackendPerTest();

    @Test
    void uploadDownloadRoundTripIsExact() {
        Tensor values = random(new int[] {3, 5, 7}, 1);
        try (DeviceTensor onDevice = opencl.backend().upload(values)) {
            assertArrayEquals(new int[] {3, 5, 7}, onDevice.shape());
            assertEquals(105, onDevice.size());
            Tensor back = onDevice.download();
            assertArrayEquals(values.shape(), back.shape());
            assertArrayEquals(values.data(), back.data());
        }
        try (DeviceTensor empty = opencl.backend().upload(Tensor.zeros(2, 0, 3))) {
            assertEquals(0, empty.download().size());
        }
    }

    @Test
    void twoLayersChainedOnTheDeviceEqualTheSameLayersOnTheHost() {
        Tensor x = random(new int[] {2, 9, 11, 3}, 2);
        Tensor k1 = random(new int[] {3, 3, 3, 8}, 3);
        Tensor b1 = random(new int[] {8}, 4);
        Tensor k2 = random(new int[] {2, 2, 4, 6}, 5);
        ConvSpec first = ConvSpec.builder().strides(2, 1).padding(Padding.REFLECT).build();
        ConvSpec second = ConvSpec.builder().groups(2).kernelDilation(2).padding(Padding.pairs(new int[] {1, 0},
                new int[] {-1, 2})).build();
        Conv hostFirst = Conv.builder(k1).bias(b1).spec(first).backend(CpuBackend.instance()).build();
        Conv hostSecond = Conv.builder(k2).spec(second).backend(CpuBackend.instance()).build();
        Tensor expected = hostSecond.apply(hostFirst.apply(x));

        Conv deviceFirst = Conv.builder(k1).bias(b1).spec(first).backend(opencl.backend()).build();
        Conv deviceSecond = Conv.builder(k2).spec(second).backend(opencl.backend()).build();
        Tensor got;
        try (DeviceTensor in = opencl.backend().upload(x); DeviceTensor middle = deviceFirst.apply(in);
                DeviceTensor out = deviceSecond.apply(middle)) {
            got = out.download();
        }
        assertArrayEquals(expected.shape(), got.shape());
        assertClose(expected.data(), got.data());
        // Host arrays through the OpenCL backend agree as well.
        assertClose(expected.data(), deviceSecond.apply(deviceFirst.apply(x)).data());
        deviceFirst.releaseDeviceParameters();
        deviceSecond.releaseDeviceParameters();
    }

    @Test
    void layerUploadsItsParametersOncePerDeviceAndAgainAfterParametersChanged() {
        Tensor kernel = random(new int[] {3, 2, 4}, 6);
        Tensor bias = random(new int[] {4}, 7);
        Conv layer = Conv.builder(kernel).bias(bias).backend(opencl.backend()).build();
        Tensor x = random(new int[] {10, 2}, 8);
        try (DeviceTensor input = opencl.backend().upload(x)) {
            long buffersBefore = opencl.backend().buffersInUse();
            Tensor first;
            try (DeviceTensor y = layer.apply(input)) {
                first = y.download();
            }
            assertEquals(buffersBefore + 2, opencl.backend().buffersInUse(), "kernel and bias stay resident");
            for (int call = 0; call < 5; call++) {
                try (DeviceTensor y = layer.apply(input)) {
                    y.download();
                }
            }
            assertEquals(buffersBefore + 2, opencl.backend().buffersInUse(), "later calls upload nothing new");
            assertClose(Conv.builder(kernel).bias(bias).backend(CpuBackend.instance()).build().apply(x).data(),
                    first.data());

            // Change the kernel in place: the device copy is stale until parametersChanged().
            kernel.data()[0] += 10f;
            Tensor expected = Conv.builder(kernel).bias(bias).backend(CpuBackend.instance()).build().apply(x);
            layer.parametersChanged();
            try (DeviceTensor y = layer.apply(input)) {
                assertClose(expected.data(), y.download().data());
            }
        }
        layer.releaseDeviceParameters();
    }

    @Test
    void closedObjectsFailLoudly() {
        DeviceTensor tensor = opencl.backend().upload(random(new int[] {4}, 9));
        tensor.close();
        assertTrue(tensor.isClosed());
        IllegalStateException closedTensor = assertThrows(IllegalStateException.class, tensor::download);
        assertTrue(closedTensor.getMessage().contains("closed"), closedTensor.getMessage());
        tensor.close(); // idempotent

        DeviceTensor orphan = opencl.backend().upload(random(new int[] {4}, 10));
        opencl.backend().close();
        assertTrue(orphan.isClosed(), "closing the backend releases tensors still open on it");
        assertThrows(IllegalStateException.class, orphan::download);
        assertThrows(IllegalStateException.class, () -> opencl.backend().upload(Tensor.zeros(1)));
        assertThrows(IllegalStateException.class, () -> opencl.backend().forward(
                ConvSpec.defaults().resolve(new int[] {3, 1}, new int[] {1, 1, 1}), new float[3], new float[1], null,
                new float[3]));
        assertFalse(opencl.backend().name().isEmpty());
    }

    @Test
    void operandsFromAnotherBackendOrOfTheWrongShapeAreRefused() {
        try (OpenClBackend other = OpenClBackend.create(opencl.backend().device());
                DeviceTensor foreign = other.upload(Tensor.zeros(1, 4, 2));
                DeviceTensor x = opencl.backend().upload(Tensor.zeros(1, 4, 2));
                DeviceTensor k = opencl.backend().upload(Tensor.zeros(3, 2, 2));
                DeviceTensor wrong = opencl.backend().allocate(1, 5, 2)) {
            var g = ConvSpec.defaults().resolve(new int[] {1, 4, 2}, new int[] {3, 2, 2});
            IllegalArgumentException mixed = assertThrows(IllegalArgumentException.class,
                    () -> opencl.backend().forward(g, foreign, k, null, wrong));
            assertTrue(mixed.getMessage().contains("another backend"), mixed.getMessage());
            IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                    () -> opencl.backend().forward(g, x, k, null, wrong));
            assertTrue(shape.getMessage().contains("output"), shape.getMessage());
        }
    }

    private static void assertClose(float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-4 * (1 + Math.abs(expected[i])), "element " + i);
        }
    }

    private static Tensor random(int[] shape, long seed) {
        Random random = new Random(seed);
        float[] values = new float[(int) Tensor.elementCount(shape)];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return Tensor.of(values, shape);
    }
}
