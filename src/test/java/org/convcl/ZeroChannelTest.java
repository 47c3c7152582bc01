package org.convcl;

import org.convcl.nn.ConvTranspose;
import org.convcl.nn.ConvGradients;
import org.convcl.nn.Conv;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.Arrays;
import org.convcl.backend.cpu.CpuBackend;
import org.junit.jupiter.api.Test;

/**
 * Kernels with no channels hold no values whatever their spatial size, so a tiny {@code .npy} file can claim
 * a billion taps. Such a convolution is an empty sum, flax returns the bias; it must cost nothing, not the
 * per-tap tables that a real kernel of that size would need (which exhausted the heap before this was fixed).
 */
class ZeroChannelTest {
    private static final int BILLION = 1_000_000_000;
    private static final Duration QUICKLY = Duration.ofSeconds(10);
    private static final Tensor BIAS = Tensor.of(new float[] {1, -2, 3.5f, 0.25f}, 4);

    @Test
    void noInputChannelsGiveTheBiasEverywhere() {
        Conv layer = Conv.builder(Tensor.zeros(BILLION, 0, 4)).bias(BIAS).backend(CpuBackend.instance()).build();
        Tensor y = assertTimeoutPreemptively(QUICKLY, () -> layer.apply(Tensor.zeros(2, 6, 0)));
        assertArrayEquals(new int[] {2, 6, 4}, y.shape());
        assertBiasEverywhere(y);
    }

    @Test
    void noInputChannelsWithoutBiasGiveZeros() {
        Conv layer = Conv.builder(Tensor.zeros(40_000, 40_000, 0, 3)).backend(CpuBackend.instance()).build();
        Tensor x = Tensor.zeros(1, 5, 7, 0);
        Tensor y = assertTimeoutPreemptively(QUICKLY, () -> layer.apply(x));
        assertArrayEquals(new int[] {1, 5, 7, 3}, y.shape());
        assertArrayEquals(new float[y.size()], y.data());
    }

    @Test
    void noOutputChannelsGiveZeroGradientsQuickly() {
        Conv layer = Conv.builder(Tensor.zeros(BILLION, 2, 0)).backend(CpuBackend.instance()).build();
        Tensor x = Tensor.of(new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, 1, 6, 2);
        ConvGradients gradients = assertTimeoutPreemptively(QUICKLY, () -> layer.backward(x, Tensor.zeros(1, 6, 0)));
        assertArrayEquals(x.shape(), gradients.dx().shape());
        assertArrayEquals(new float[x.size()], gradients.dx().data());
        assertEquals(0, gradients.dkernel().size());
    }

    @Test
    void noInputChannelsInATransposedConvolutionGiveTheBias() {
        ConvTranspose layer = ConvTranspose.builder(Tensor.zeros(BILLION, 0, 4)).bias(BIAS)
                .backend(CpuBackend.instance()).build();
        Tensor y = assertTimeoutPreemptively(QUICKLY, () -> layer.apply(Tensor.zeros(2, 6, 0)));
        assertArrayEquals(new int[] {2, 6, 4}, y.shape());
        assertBiasEverywhere(y);
    }

    private static void assertBiasEverywhere(Tensor y) {
        float[] expected = new float[y.size()];
        for (int i = 0; i < expected.length; i++) {
            expected[i] = BIAS.data()[i % BIAS.size()];
        }
        assertArrayEquals(expected, y.data(), () -> Arrays.toString(y.data()));
    }
}
