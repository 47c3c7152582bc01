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
        float[] first = held.internal(layout, kernel.data(), null, false);
        assertSame(first, held.internal(layout, kernel.data(), null, false));
        kernel.data()[0] += 1f;
        float[] changed = held.internal(layout, kernel.data(), null, false);
        assertNotSame(first, changed);
        assertArrayEquals(layout.kernelToInternal(kernel.data()), changed);
    }

    /**
     * A layer with fixed parameters computes what a layer that checks its values computes, and after an in-place
     * change and parametersChanged() what a fresh layer on the new values computes (PreparedKernelsTest shows the
     * forms trusted in between). Both layouts, with and without a mask, on kernels the Java path prepares forms for
     * (3x3 Winograd, 1x1 panels).
     */
    @Test
    void fixedParametersAreTrustedUntilParametersChanged() {
        for (Layout layout : Layout.values()) {
            for (int taps : new int[] {1, 3}) {
                for (boolean masked : new boolean[] {false, true}) {
                    boolean first = layout == Layout.CHANNELS_FIRST;
                    int[] kernelShape = first ? new int[] {64, 16, taps, taps} : new int[] {taps, taps, 16, 64};
                    Tensor kernel = RandomTensors.uniform(random, kernelShape);
                    Tensor mask = masked ? RandomTensors.uniform(random, kernelShape) : null;
                    Tensor x = RandomTensors.uniform(random, first ? new int[] {1, 16, 8, 8} : new int[] {1, 8, 8, 16});
                    String where = layout + " " + taps + "x" + taps + (masked ? " masked" : "");
                    try (Conv conv = Conv.builder(kernel).mask(mask).layout(layout).fixedParameters(true)
                            .backend(CpuBackend.instance()).build()) {
                        float[] before = conv.apply(x).data();
                        assertArrayEquals(fresh(kernel, mask, layout).apply(x).data(), before, where);
                        assertArrayEquals(before, conv.apply(x).data(), where + ": a second call");
                        kernel.data()[5] += 1f;
                        conv.parametersChanged();
                        float[] after = conv.apply(x).data();
                        assertFalse(Arrays.equals(before, after), where + ": parametersChanged() reaches the output");
                        assertArrayEquals(fresh(kernel, mask, layout).apply(x).data(), after, where);
                    }
                }
            }
        }
    }

    /** A new layer on a copy of the current values: nothing it holds was made from older ones. */
    private static Conv fresh(Tensor kernel, Tensor mask) {
        return fresh(kernel, mask, Layout.CHANNELS_FIRST);
    }

    private static Conv fresh(Tensor kernel, Tensor mask, Layout layout) {
        Tensor maskCopy = mask == null ? null : Tensor.of(mask.data().clone(), mask.shape());
        return Conv.builder(Tensor.of(kernel.data().clone(), kernel.shape())).mask(maskCopy)
                .layout(layout).backend(CpuBackend.instance()).build();
    }
}
