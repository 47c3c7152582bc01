package org.convcl.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.convcl.nn.Conv;
import org.convcl.ConvGeometry;
import org.convcl.nn.ConvGradients;
import org.convcl.ConvSpec;
import org.convcl.nn.ConvTranspose;
import org.convcl.ConvTransposeSpec;
import org.convcl.nn.DeviceGradients;
import org.convcl.EdgeMode;
import org.convcl.EdgePadding;
import org.convcl.Padding;
import org.convcl.Tensor;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.opencl.internal.runtime.NativeResources;
import org.convcl.testing.OpenClBackendPerTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.function.Executable;

/**
 * Device-resident backward passes: they hold no native object beyond their results, follow in-place parameter
 * changes, chain with device forwards (a decoder trained on the device), and refuse bad operands before any
 * work with a message naming the operand.
 */
class DeviceBackwardTest {
    @RegisterExtension
    final OpenClBackendPerTest opencl = new OpenClBackendPerTest();

    @Test
    void repeatedBackwardPassesHoldNothingMoreAndReleasingReturnsToTheStart() {
        Random random = new Random(1);
        Conv conv = Conv.builder(random(random, 3, 4, 6)).bias(random(random, 6)).mask(mask(random, 3, 4, 6))
                .spec(ConvSpec.builder().padding(Padding.CIRCULAR).strides(2).build())
                .backend(opencl.backend()).build();
        ConvTranspose transpose = ConvTranspose.builder(random(random, 3, 6, 4)).bias(random(random, 6))
                .mask(mask(random, 3, 6, 4)).spec(ConvTransposeSpec.builder().strides(2).padding(Padding.CIRCULAR)
                        .transposeKernel(true).build()).backend(opencl.backend()).build();
        Tensor x = random(random, 2, 9, 4);
        Tensor convDy = random(random, conv.geometry(x.shape()).outputShape());
        Tensor transposeDy = random(random, transpose.geometry(x.shape()).outputShape());
        NativeResources.Counts before = NativeResources.snapshot();

        runCalls(conv, transpose, x, convDy, transposeDy, 3);
        NativeResources.Counts warm = NativeResources.snapshot();
        runCalls(conv, transpose, x, convDy, transposeDy, 100);
        assertEquals(warm, NativeResources.snapshot(), "100 more backward passes hold nothing more");

        conv.releaseDeviceParameters();
        transpose.releaseDeviceParameters();
        opencl.backend().trimMemory();
        // Each layer's kernel, bias and mask go; the plans stay until the backend closes (checked after each test).
        NativeResources.Counts released = NativeResources.snapshot();
        assertTrue(warm.buffers() - released.buffers() >= 6, "parameters released: warm " + warm + ", now "
                + released);
        assertTrue(released.buffers() >= before.buffers(), "nothing released twice: " + released);
    }

    private void runCalls(Conv conv, ConvTranspose transpose, Tensor x, Tensor convDy, Tensor transposeDy,
            int calls) {
        for (int i = 0; i < calls; i++) {
            conv.backward(x, convDy);
            transpose.backward(x, transposeDy);
            try (DeviceTensor dx = opencl.backend().upload(x); DeviceTensor dy = opencl.backend().upload(convDy);
                    DeviceTensor tdy = opencl.backend().upload(transposeDy);
                    DeviceGradients convGrads = conv.backward(dx, dy);
                    DeviceGradients transposeGrads = transpose.backward(dx, tdy);
                    DeviceTensor y = transpose.apply(dx)) {
                convGrads.download();
                transposeGrads.download();
                y.download();
            }
        }
    }

    @Test
    void aLayerKeepsItsFlippedKernelBetweenBackwardPassesAndAllocatesNothingMore() {
        Random random = new Random(4);
        Tensor kernel = random(random, 3, 2, 3);
        Conv layer = Conv.builder(kernel).bias(random(random, 3)).backend(opencl.backend()).build();
        Tensor x = random(random, 2, 8, 2);
        Tensor dy = random(random, 2, 8, 3);
        try (DeviceTensor dx = opencl.backend().upload(x); DeviceTensor ddy = opencl.backend().upload(dy)) {
            long beforeLayer = opencl.backend().buffersInUse();
            try (DeviceGradients first = layer.backward(dx, ddy)) {
                first.download();
            }
            // Kernel, bias and the kernel flipped for the input gradient stay with the layer.
            assertEquals(beforeLayer + 3, opencl.backend().buffersInUse(),
                    "the layer keeps kernel, bias and flipped kernel");
            float[] expected = layer.backward(x, dy).dx().data(); // the host path, before counting
            long created = opencl.backend().buffersCreated();
            for (int call = 0; call < 20; call++) {
                try (DeviceGradients again = layer.backward(dx, ddy)) {
                    assertArrayEquals(expected, again.download().dx().data());
                }
            }
            assertEquals(beforeLayer + 3, opencl.backend().buffersInUse(), "no second flipped kernel");
            assertEquals(created, opencl.backend().buffersCreated(), "later backward passes allocate no device memory");
            layer.releaseDeviceParameters();
            assertEquals(beforeLayer, opencl.backend().buffersInUse(),
                    "releasing the layer's copies releases the flipped one");
        }
    }

    @Test
    void deviceBackwardFollowsParametersChangedInPlace() {
        Random random = new Random(2);
        Tensor kernel = random(random, 3, 2, 3);
        Tensor mask = mask(random, 3, 2, 3);
        Conv layer = Conv.builder(kernel).mask(mask).spec(ConvSpec.builder().padding(Padding.REFLECT).build())
                .backend(opencl.backend()).build();
        Tensor x = random(random, 2, 8, 2);
        Tensor dy = random(random, 2, 8, 3);
        try (DeviceTensor dx = opencl.backend().upload(x); DeviceTensor ddy = opencl.backend().upload(dy)) {
            try (DeviceGradients first = layer.backward(dx, ddy)) {
                assertArrayEquals(layer.backward(x, dy).dx().data(), first.download().dx().data());
            }
            kernel.data()[0] += 3f;
            mask.data()[1] = 1f - mask.data()[1];
            layer.parametersChanged();
            ConvGradients expected = Conv.builder(kernel).mask(mask).spec(layer.spec()).backend(CpuBackend.instance())
                    .build().backward(x, dy);
            try (DeviceGradients second = layer.backward(dx, ddy)) {
                ConvGradients got = second.download();
                assertClose(expected.dx().data(), got.dx().data());
                assertClose(expected.dkernel().data(), got.dkernel().data());
            }
        }
        layer.releaseDeviceParameters();
    }

    @Test
    void aDecoderForwardAndBackwardStayOnTheDevice() {
        // conv (down) -> transpose conv (up), applied and differentiated on the device, equal to the host.
        Random random = new Random(3);
        Conv down = Conv.builder(random(random, 4, 4, 3, 8)).bias(random(random, 8))
                .spec(ConvSpec.builder().strides(2).build()).backend(opencl.backend()).build();
        ConvTranspose up = ConvTranspose.builder(random(random, 4, 4, 8, 3)).bias(random(random, 3))
                .spec(ConvTransposeSpec.builder().strides(2).build()).backend(opencl.backend()).build();
        Tensor x = random(random, 2, 10, 12, 3);
        Tensor hostHidden = down.apply(x);
        Tensor hostOut = up.apply(hostHidden);
        Tensor dOut = random(random, hostOut.shape());
        ConvGradients hostUp = up.backward(hostHidden, dOut);
        ConvGradients hostDown = down.backward(x, hostUp.dx());
        try (DeviceTensor dx = opencl.backend().upload(x); DeviceTensor hidden = down.apply(dx);
                DeviceTensor out = up.apply(hidden); DeviceTensor dy = opencl.backend().upload(dOut);
                DeviceGradients upGrads = up.backward(hidden, dy);
                DeviceGradients downGrads = down.backward(dx, upGrads.dx())) {
            assertArrayEquals(hostOut.data(), out.download().data());
            assertArrayEquals(hostUp.dkernel().data(), upGrads.download().dkernel().data());
            ConvGradients got = downGrads.download();
            assertArrayEquals(hostDown.dx().data(), got.dx().data());
            assertArrayEquals(hostDown.dkernel().data(), got.dkernel().data());
            assertArrayEquals(hostDown.dbias().data(), got.dbias().data());
        }
        down.releaseDeviceParameters();
        up.releaseDeviceParameters();
    }

    @Test
    void concurrentBackwardPassesGiveTheSequentialResult() throws Exception {
        Random random = new Random(4);
        ConvSpec spec = ConvSpec.builder().padding(Padding.CIRCULAR).groups(2).build();
        Tensor x = random(random, 3, 40, 4);
        Tensor dy = random(random, 3, 40, 6);
        Tensor kernel = random(random, 3, 2, 6);
        Tensor bias = random(random, 6);
        // Each thread its own layer (and so its own first upload and plan lookups), one backend for all.
        ConvGradients expected = Conv.builder(kernel).bias(bias).spec(spec).backend(opencl.backend()).build()
                .backward(x, dy);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<ConvGradients>> results = new ArrayList<>();
            for (int task = 0; task < 16; task++) {
                boolean onDevice = task % 2 == 0;
                results.add(pool.submit(() -> {
                    Conv layer = Conv.builder(kernel).bias(bias).spec(spec).backend(opencl.backend()).build();
                    if (!onDevice) {
                        return layer.backward(x, dy);
                    }
                    try (DeviceTensor dx = opencl.backend().upload(x); DeviceTensor ddy = opencl.backend().upload(dy);
                            DeviceGradients grads = layer.backward(dx, ddy)) {
                        return grads.download();
                    } finally {
                        layer.releaseDeviceParameters();
                    }
                }));
            }
            for (Future<ConvGradients> result : results) {
                ConvGradients got = result.get();
                assertArrayEquals(expected.dx().data(), got.dx().data());
                assertArrayEquals(expected.dkernel().data(), got.dkernel().data());
                assertArrayEquals(expected.dbias().data(), got.dbias().data());
            }
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void anEmptyOutputGivesZeroGradientsOnHostAndDevice() {
        Conv layer = Conv.builder(Tensor.of(new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 5, 2, 1))
                .bias(Tensor.of(new float[] {0.5f}, 1)).spec(ConvSpec.builder().padding(Padding.VALID).build())
                .backend(opencl.backend()).build();
        Tensor x = Tensor.of(new float[] {1, -2, 3, -4, 5, -6}, 1, 3, 2);
        Tensor dy = Tensor.zeros(1, 0, 1);
        ConvGradients host = layer.backward(x, dy);
        ConvGradients device;
        try (DeviceTensor dx = opencl.backend().upload(x); DeviceTensor ddy = opencl.backend().upload(dy);
                DeviceGradients grads = layer.backward(dx, ddy)) {
            device = grads.download();
        }
        for (ConvGradients grads : new ConvGradients[] {host, device}) {
            assertArrayEquals(new float[6], grads.dx().data());
            assertArrayEquals(new float[10], grads.dkernel().data());
            assertArrayEquals(new float[1], grads.dbias().data());
        }
        layer.releaseDeviceParameters();
    }

    @Test
    void badOperandsAreRefusedNamingTheOperand() {
        Conv layer = Conv.builder(Tensor.zeros(3, 2, 4)).backend(opencl.backend()).build();
        try (OpenClBackend other = OpenClBackend.create(opencl.backend().device());
                DeviceTensor x = opencl.backend().upload(Tensor.zeros(5, 2));
                DeviceTensor dy = opencl.backend().upload(Tensor.zeros(5, 4));
                DeviceTensor wrong = opencl.backend().upload(Tensor.zeros(5, 3));
                DeviceTensor foreign = other.upload(Tensor.zeros(5, 4))) {
            refuses(() -> layer.backward(null, dy), "x: got null");
            refuses(() -> layer.backward(x, null), "dy: got null");
            refuses(() -> layer.backward(x, wrong), "dy: shape [5, 3]");
            refuses(() -> layer.backward(x, foreign), "another backend");

            ConvGeometry g = layer.geometry(5, 2);
            try (DeviceTensor dk = opencl.backend().allocate(3, 2, 4)) {
                refuses(() -> opencl.backend().kernelGradient(g, x, wrong, dk), "outputGradient: shape [5, 3]");
                refuses(() -> opencl.backend().kernelGradient(g, x, dy, x), "kernelGradient: shape [5, 2]");
                refuses(() -> opencl.backend().kernelGradient(g, x, dy, foreign), "kernelGradient: ");
                refuses(() -> opencl.backend().biasGradient(dy, wrong), "biasGradient: got shape [5, 3]");
                refuses(() -> opencl.backend().flipSwap(dk, 3, dk), "groups: 3 does not divide");
                refuses(() -> opencl.backend().flipSwap(dk, 1, dk), "result: shape [3, 2, 4]");
                refuses(() -> opencl.backend().multiplyInPlace(dk, dk), "is also an operand");
            }
            refuses(() -> opencl.backend().kernelGradient(g, new float[10], new float[20], new float[5]),
                    "kernelGradient: has 5 elements");
            refuses(() -> opencl.backend().biasGradient(4, 5, new float[19], new float[5]),
                    "outputGradient: has 19 elements");
            EdgePadding wrap = new EdgePadding(1, 2, new int[] {5}, new int[] {9}, new int[] {2}, EdgeMode.WRAP);
            refuses(() -> opencl.backend().pad(wrap, new float[10], new float[17]), "padded: has 17 elements");
            refuses(() -> opencl.backend().fold(wrap, new float[18], new float[3], new float[10]),
                    "bias: has 3 elements");
            try (DeviceTensor padded = opencl.backend().allocate(1, 8, 2)) {
                refuses(() -> opencl.backend().pad(wrap, x, padded), "padded: shape [1, 8, 2]");
            }
        }
        layer.releaseDeviceParameters();
    }

    @Test
    void aClosedBackendRefusesBackwardWork() {
        DeviceTensor x = opencl.backend().upload(Tensor.zeros(5, 2));
        DeviceTensor dy = opencl.backend().upload(Tensor.zeros(5, 4));
        Conv layer = Conv.builder(Tensor.zeros(3, 2, 4)).backend(opencl.backend()).build();
        opencl.backend().close();
        assertThrows(IllegalStateException.class, () -> layer.backward(x, dy));
        assertThrows(IllegalStateException.class,
                () -> opencl.backend().biasGradient(5, 4, new float[20], new float[4]));
        assertFalse(opencl.backend().name().isEmpty());
    }

    private static void refuses(Executable call, String expected) {
        IllegalArgumentException refusal = assertThrows(IllegalArgumentException.class, call);
        assertTrue(refusal.getMessage().contains(expected), "'" + expected + "' in: " + refusal.getMessage());
    }

    private static void assertClose(float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-4 * (1 + Math.abs(expected[i])), "element " + i);
        }
    }

    private static Tensor random(Random random, int... shape) {
        float[] values = new float[(int) Tensor.elementCount(shape)];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return Tensor.of(values, shape);
    }

    private static Tensor mask(Random random, int... shape) {
        float[] values = new float[(int) Tensor.elementCount(shape)];
        for (int i = 0; i < values.length; i++) {
            values[i] = random.nextInt(4) == 0 ? 0f : 1f;
        }
        return Tensor.of(values, shape);
    }
}
