package org.convcl.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.convcl.nn.Conv;
import org.convcl.nn.ConvGradients;
import org.convcl.ConvSpec;
import org.convcl.nn.DeviceGradients;
import org.convcl.Layout;
import org.convcl.Padding;
import org.convcl.Tensor;
import org.convcl.testing.OpenClBackendPerClass;
import org.convcl.testing.RandomTensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The device side of channels-first layers: the batched transpose kernel that moves their axes, their resident
 * parameters (moved on the device, compared and re-uploaded as the user holds them) and their device-tensor
 * calls' checks and memory.
 */
class ChannelsFirstOpenClTest {
    @RegisterExtension
    static final OpenClBackendPerClass OPENCL = new OpenClBackendPerClass();

    @Test
    void transposeMovesEveryValueWhereTheDefinitionSays() {
        OpenClBackend backend = OPENCL.backend();
        SplittableRandom random = new SplittableRandom(5);
        int[][] sizes = {{1, 1, 1}, {1, 16, 16}, {3, 17, 33}, {2, 1, 40}, {1, 40, 1}, {4, 5, 3}, {2, 31, 16},
            {0, 3, 3}, {2, 0, 7}, {1, 300, 70}};
        for (int[] size : sizes) {
            int batch = size[0];
            int rows = size[1];
            int cols = size[2];
            Tensor source = RandomTensors.uniform(random, batch * rows * cols);
            float[] expected = new float[source.size()];
            for (int b = 0; b < batch; b++) {
                for (int r = 0; r < rows; r++) {
                    for (int c = 0; c < cols; c++) {
                        expected[(b * cols + c) * rows + r] = source.data()[(b * rows + r) * cols + c];
                    }
                }
            }
            try (DeviceTensor in = backend.upload(source); DeviceTensor out = backend.allocate(batch, cols, rows)) {
                backend.transpose(in, batch, rows, cols, out);
                assertArrayEquals(expected, out.download().data(), batch + " x " + rows + " x " + cols);
            }
        }
        try (DeviceTensor in = backend.allocate(2, 3); DeviceTensor out = backend.allocate(6)) {
            String message = assertThrows(IllegalArgumentException.class,
                    () -> backend.transpose(in, 1, 2, 4, out)).getMessage();
            assertTrue(message.contains("holds 6 values but (batch 1, rows 2, cols 4) is 8"), message);
            assertThrows(IllegalArgumentException.class, () -> backend.transpose(in, 1, 2, 3, in));
        }
    }

    @Test
    void hostCallsUseTheKernelAsItIsNowAndDeviceCallsAfterParametersChanged() {
        OpenClBackend backend = OPENCL.backend();
        SplittableRandom random = new SplittableRandom(6);
        Tensor kernel = RandomTensors.uniform(random, 5, 3, 3, 2);
        Tensor bias = RandomTensors.uniform(random, 5);
        Tensor x = RandomTensors.uniform(random, 2, 3, 6, 7);
        ConvSpec spec = ConvSpec.builder().padding(Padding.CIRCULAR).build();
        try (Conv layer = Conv.builder(kernel).bias(bias).spec(spec).layout(Layout.CHANNELS_FIRST).backend(backend)
                .build(); DeviceTensor deviceX = backend.upload(x)) {
            Tensor before = layer.apply(x);
            Tensor update = RandomTensors.uniform(random, kernel.shape());
            System.arraycopy(update.data(), 0, kernel.data(), 0, kernel.size());
            Tensor after = layer.apply(x);
            Tensor fresh;
            try (Conv rebuilt = Conv.builder(update.copy()).bias(bias).spec(spec).layout(Layout.CHANNELS_FIRST)
                    .backend(backend).build()) {
                fresh = rebuilt.apply(x);
            }
            assertArrayEquals(fresh.data(), after.data(), "the host call after an in-place update");
            assertFalse(java.util.Arrays.equals(before.data(), after.data()));
            layer.parametersChanged();
            try (DeviceTensor y = layer.apply(deviceX)) {
                assertArrayEquals(fresh.data(), y.download().data(), "the device call after parametersChanged()");
            }
        }
    }

    @Test
    void deviceCallsCheckTheirOutputAndGiveTheirTemporariesBack() {
        OpenClBackend backend = OPENCL.backend();
        SplittableRandom random = new SplittableRandom(7);
        Tensor x = RandomTensors.uniform(random, 4, 9);
        Tensor kernel = RandomTensors.uniform(random, 6, 2, 3);
        try (Conv layer = Conv.builder(kernel).mask(RandomTensors.uniform(random, 6, 2, 3)).layout(
                Layout.CHANNELS_FIRST).spec(ConvSpec.builder().groups(2).build()).backend(backend).build();
                DeviceTensor deviceX = backend.upload(x);
                DeviceTensor wrong = backend.allocate(9, 6)) {
            String message = assertThrows(IllegalArgumentException.class, () -> layer.apply(deviceX, wrong))
                    .getMessage();
            assertTrue(message.contains("channels-first output for input [4, 9] is [6, 9]"), message);
            try (DeviceTensor y = layer.apply(deviceX)) {
                assertArrayEquals(new int[] {6, 9}, y.shape());
            }
            long inUse = -1;
            for (int i = 0; i < 4; i++) {
                if (i == 1) {
                    // After a first backward pass, which made the resident mask and flipped kernel.
                    inUse = backend.buffersInUse();
                }
                try (DeviceTensor y = layer.apply(deviceX); DeviceTensor dy = backend.upload(RandomTensors.uniform(
                        random, 6, 9)); DeviceGradients grads = layer.backward(deviceX, dy)) {
                    ConvGradients onHost = layer.backward(x, dy.download());
                    assertArrayEquals(onHost.dkernel().data(), grads.download().dkernel().data());
                    assertArrayEquals(kernel.shape(), grads.dkernel().shape());
                    assertEquals(6, y.shape()[0]);
                }
            }
            backend.finish();
            assertEquals(inUse, backend.buffersInUse(), "every temporary of the calls went back to the pool");
        }
    }
}
