package org.convcl.opencl;

import org.convcl.opencl.device.OpenClDevice;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.convcl.nn.Conv;
import org.convcl.ConvSpec;
import org.convcl.Padding;
import org.convcl.Tensor;
import org.convcl.testing.OpenClTesting;
import org.junit.jupiter.api.Test;

/** One backend and one layer used from several threads give what sequential calls give, bit for bit. */
class ConcurrentOpenClTest {

    @Test
    void concurrentHostAndDeviceCallsMatchSequentialOnes() throws Exception {
        OpenClDevice device = OpenClTesting.device();
        Random random = new Random(11);
        Tensor kernel = tensor(random, 3, 3, 4, 6);
        Tensor bias = tensor(random, 6);
        List<Tensor> inputs = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            inputs.add(tensor(random, 2, 7 + i, 6, 4));
        }
        try (OpenClBackend backend = OpenClBackend.create(device)) {
            Conv layer = Conv.builder(kernel).bias(bias).spec(ConvSpec.builder().padding(Padding.CIRCULAR).build())
                    .backend(backend).build();
            List<float[]> expected = new ArrayList<>();
            for (Tensor x : inputs) {
                expected.add(layer.apply(x).data());
            }
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<?>> futures = new ArrayList<>();
                for (int thread = 0; thread < 4; thread++) {
                    int first = thread;
                    futures.add(pool.submit(() -> {
                        for (int call = 0; call < 25; call++) {
                            int which = (first + call) % inputs.size();
                            assertArrayEquals(expected.get(which), layer.apply(inputs.get(which)).data());
                            try (DeviceTensor x = backend.upload(inputs.get(which)); DeviceTensor y = layer.apply(x)) {
                                assertArrayEquals(expected.get(which), y.download().data());
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> future : futures) {
                    future.get();
                }
            } finally {
                pool.shutdownNow();
            }
            layer.releaseDeviceParameters();
        }
    }

    private static Tensor tensor(Random random, int... shape) {
        float[] values = new float[(int) Tensor.elementCount(shape)];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return Tensor.of(values, shape);
    }
}
