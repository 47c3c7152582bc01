package org.convcl.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.SplittableRandom;
import org.convcl.nn.Conv;
import org.convcl.Tensor;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.testing.OpenClBackendPerClass;
import org.convcl.testing.RandomTensors;
import org.convcl.testing.Tolerance;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Device tensors to and from java.nio FloatBuffers: direct ones in place, heap ones through their arrays. */
class DirectBufferTransferTest {
    @RegisterExtension
    static final OpenClBackendPerClass OPENCL = new OpenClBackendPerClass();

    private static FloatBuffer direct(int floats, ByteOrder order) {
        return ByteBuffer.allocateDirect(4 * floats).order(order).asFloatBuffer();
    }

    @Test
    void aDirectBufferRoundTripsExactlyFromItsPositionAndKeepsThePositions() {
        OpenClBackend backend = OPENCL.backend();
        Tensor values = RandomTensors.uniform(new SplittableRandom(1), 4, 5, 6);
        FloatBuffer source = direct(values.size() + 3, ByteOrder.nativeOrder());
        source.position(3);
        source.duplicate().put(values.data());
        FloatBuffer target = direct(values.size() + 2, ByteOrder.nativeOrder());
        target.position(2);
        try (DeviceTensor onDevice = backend.upload(source, 4, 5, 6)) {
            assertEquals(3, source.position(), "the source's position is left as it was");
            assertArrayEquals(values.data(), onDevice.download().data(), "uploaded from the position on");
            onDevice.download(target);
        }
        assertEquals(2, target.position(), "the target's position is left as it was");
        float[] back = new float[values.size()];
        target.duplicate().get(back);
        assertArrayEquals(values.data(), back, "downloaded from the position on");
        assertEquals(0f, target.get(0), "nothing written before the position");
    }

    @Test
    void heapBuffersWorkThroughTheirArraysAndAConvOnADirectUploadIsRight() {
        OpenClBackend backend = OPENCL.backend();
        SplittableRandom random = new SplittableRandom(2);
        Tensor x = RandomTensors.uniform(random, 2, 7, 7, 3);
        Tensor kernel = RandomTensors.uniform(random, 3, 3, 3, 5);
        FloatBuffer input = direct(x.size(), ByteOrder.nativeOrder());
        input.duplicate().put(x.data());
        float[] expected = Conv.builder(kernel).backend(CpuBackend.instance()).build().apply(x).data();
        try (Conv conv = Conv.builder(kernel).backend(backend).build();
             DeviceTensor onDevice = backend.upload(input, x.shape());
             DeviceTensor y = conv.apply(onDevice)) {
            FloatBuffer heap = FloatBuffer.allocate(expected.length);
            y.download(heap);
            assertTrue(Tolerance.relativeL2(Tolerance.toDouble(expected), heap.array()) < 1e-5);
            try (DeviceTensor fromHeap = backend.upload(FloatBuffer.wrap(x.data()), x.shape())) {
                assertArrayEquals(x.data(), fromHeap.download().data());
            }
        }
    }

    @Test
    void wrongSizesOrdersAndReadOnlyTargetsAreRefusedNamingTheRule() {
        OpenClBackend backend = OPENCL.backend();
        IllegalArgumentException size = assertThrows(IllegalArgumentException.class,
                () -> backend.upload(direct(10, ByteOrder.nativeOrder()), 3, 4));
        assertTrue(size.getMessage().contains("values: 10 floats remain") && size.getMessage().contains("holds 12"),
                size.getMessage());
        ByteOrder foreign = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN ? ByteOrder.BIG_ENDIAN
                : ByteOrder.LITTLE_ENDIAN;
        IllegalArgumentException order = assertThrows(IllegalArgumentException.class,
                () -> backend.upload(direct(12, foreign), 3, 4));
        assertTrue(order.getMessage().contains("ByteOrder.nativeOrder()"), order.getMessage());
        try (DeviceTensor t = backend.upload(Tensor.zeros(3, 4))) {
            IllegalArgumentException readOnly = assertThrows(IllegalArgumentException.class,
                    () -> t.download(direct(12, ByteOrder.nativeOrder()).asReadOnlyBuffer()));
            assertTrue(readOnly.getMessage().contains("read-only"), readOnly.getMessage());
        }
    }
}
