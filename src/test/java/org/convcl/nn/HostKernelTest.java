package org.convcl.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.convcl.Layout;
import org.convcl.Tensor;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.testing.RandomTensors;
import org.junit.jupiter.api.Test;

/**
 * A channels-first layer keeps its moved kernel across calls ({@link HostKernel}), so the Java path's prepared
 * forms find it, yet computes with the user's current values when they change in place.
 */
class HostKernelTest {
    private final SplittableRandom random = new SplittableRandom(2727);

    @Test
    void channelsFirstConvFollowsAKernelChangedInPlace() {
        Tensor kernel = RandomTensors.uniform(random, 8, 8, 3, 3);
        Tensor mask = RandomTensors.uniform(random, 8, 8, 3, 3);
        Tensor x = RandomTensors.uniform(random, 1, 8, 6, 6);
        for (Tensor layerMask : new Tensor[] {null, mask}) {
            Conv conv = Conv.builder(kernel).mask(layerMask).layout(Layout.CHANNELS_FIRST)
                    .backend(CpuBackend.instance()).build();
            // Three calls: the kernels keep a prepared form from a kernel's second call on.
            conv.apply(x);
            conv.apply(x);
            float[] before = conv.apply(x).data();
            kernel.data()[5] += 1f;
            float[] after = conv.apply(x).data();
            assertFalse(Arrays.equals(before, after), "the change must reach the output");
            assertArrayEquals(fresh(kernel, layerMask).apply(x).data(), after);
            if (layerMask != null) {
                layerMask.data()[7] = 0f;
                assertArrayEquals(fresh(kernel, layerMask).apply(x).data(), conv.apply(x).data());
            }
        }
    }

    @Test
    void movedKernelIsKeptUntilTheValuesChange() {
        Tensor kernel = RandomTensors.uniform(random, 4, 2, 3, 3);
        LayerLayout layout = ChannelsFirst.forConv(kernel.shape());
        HostKernel held = new HostKernel();
        float[] first = held.internal(layout, kernel.data(), null);
        assertSame(first, held.internal(layout, kernel.data(), null));
        kernel.data()[0] += 1f;
        float[] changed = held.internal(layout, kernel.data(), null);
        assertNotSame(first, changed);
        assertArrayEquals(layout.kernelToInternal(kernel.data()), changed);
    }

    /** A new layer on a copy of the current values: nothing it holds was made from older ones. */
    private static Conv fresh(Tensor kernel, Tensor mask) {
        Tensor maskCopy = mask == null ? null : Tensor.of(mask.data().clone(), mask.shape());
        return Conv.builder(Tensor.of(kernel.data().clone(), kernel.shape())).mask(maskCopy)
                .layout(Layout.CHANNELS_FIRST).backend(CpuBackend.instance()).build();
    }
}
