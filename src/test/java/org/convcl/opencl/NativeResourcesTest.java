package org.convcl.opencl;

import org.convcl.opencl.device.OpenClDevice;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.convcl.nn.Conv;
import org.convcl.ConvSpec;
import org.convcl.Tensor;
import org.convcl.opencl.internal.runtime.NativeResources;
import org.convcl.testing.OpenClTesting;
import org.junit.jupiter.api.Test;

/** Repeated calls create nothing that outlives them, and closing gives everything back. */
class NativeResourcesTest {

    @Test
    void repeatedCallsAreFlatAndCloseReturnsToTheStart() {
        OpenClDevice device = OpenClTesting.device();
        NativeResources.Counts start = NativeResources.snapshot();
        Random random = new Random(3);
        Tensor x = Tensor.of(values(random, 2 * 12 * 3), 2, 12, 3);
        Tensor kernel = Tensor.of(values(random, 3 * 3 * 5), 3, 3, 5);
        Tensor bias = Tensor.of(values(random, 5), 5);
        try (OpenClBackend backend = OpenClBackend.create(device)) {
            Conv layer = Conv.builder(kernel).bias(bias).spec(ConvSpec.builder().strides(2).build()).backend(backend)
                    .build();
            runCalls(backend, layer, x, 3);
            NativeResources.Counts warm = NativeResources.snapshot();
            runCalls(backend, layer, x, 200);
            assertEquals(warm, NativeResources.snapshot(), "200 more calls hold nothing more");
            layer.releaseDeviceParameters();
            backend.trimMemory();
        }
        assertEquals(start, NativeResources.snapshot(), "closing the backend releases everything");
    }

    private static void runCalls(OpenClBackend backend, Conv layer, Tensor x, int calls) {
        for (int i = 0; i < calls; i++) {
            layer.apply(x);
            try (DeviceTensor input = backend.upload(x); DeviceTensor output = layer.apply(input)) {
                output.download();
            }
        }
    }

    private static float[] values(Random random, int count) {
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return values;
    }
}
