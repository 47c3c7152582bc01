package org.convcl.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.stream.Stream;
import org.convcl.Activation;
import org.convcl.ConvSpec;
import org.convcl.ConvTransposeSpec;
import org.convcl.Layout;
import org.convcl.Padding;
import org.convcl.Tensor;
import org.convcl.backend.ConvBackend;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.testing.NaiveEpilogue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The epilogue's rules on the layers: relu's gradient at a pre-activation of exactly 0 is jax's 0, and the
 * refusals of a scale or shift that is not one value per output channel and of a residual that is not the output's
 * shape in the layer's layout, each naming the parameter, its shape and the rule; the layers' descriptions.
 */
class EpilogueRulesTest {
    static Stream<ConvBackend> backends() {
        return EpilogueLayerTest.backends();
    }

    /**
     * A 1x1 convolution with kernel 1 and a shift of -1 on inputs 1 and 2: the pre-activation is exactly 0 where
     * the input is 1, and relu's derivative there is 0 (jax's {@code relu} gradient at 0), so dx, the residual's and
     * the shift's gradients get nothing from those elements.
     */
    @ParameterizedTest(autoCloseArguments = false)
    @MethodSource("backends")
    void reluGradientAtExactlyZeroIsZero(ConvBackend backend) {
        float[] input = {1, 2, 1, 2, 1};
        Tensor x = Tensor.of(input, 5, 1);
        Tensor residual = Tensor.of(new float[5], 5, 1);
        Tensor dy = Tensor.of(new float[] {1, 1, 1, 1, 1}, 5, 1);
        try (Conv layer = Conv.builder(Tensor.of(new float[] {1}, 1, 1, 1)).shift(Tensor.of(new float[] {-1}, 1))
                .activation(Activation.relu()).backend(backend).build()) {
            ConvGradients g = layer.backward(x, residual, dy);
            double dshift = 0;
            for (int i = 0; i < input.length; i++) {
                double z = input[i] - 1.0;
                double expected = NaiveEpilogue.derivative(Activation.relu(), z);
                assertEquals(expected, g.dx().data()[i], 0, "dx at z = " + z);
                assertEquals(expected, g.dresidual().data()[i], 0, "dresidual at z = " + z);
                dshift += expected;
            }
            assertEquals(dshift, g.dshift().data()[0], 0, "dshift");
        }
    }

    @Test
    void scaleOrShiftOfTheWrongLengthIsRefused() {
        Tensor kernel = Tensor.of(new float[12], 3, 2, 2);
        IllegalArgumentException scale = assertThrows(IllegalArgumentException.class,
                () -> Conv.builder(kernel).scale(Tensor.of(new float[3], 3)).build());
        assertMessage(scale, "scale", "[3]", "[2]");
        IllegalArgumentException shift = assertThrows(IllegalArgumentException.class,
                () -> Conv.builder(kernel).shift(Tensor.of(new float[2], 1, 2)).build());
        assertMessage(shift, "shift", "[1, 2]", "[2]");
        // A channels-first ConvTranspose's output channels are dim 1 of PyTorch's (Cin, Cout, *k).
        Tensor pytorchKernel = Tensor.of(new float[2 * 5 * 3], 2, 5, 3);
        IllegalArgumentException transposed = assertThrows(IllegalArgumentException.class,
                () -> ConvTranspose.builder(pytorchKernel).layout(Layout.CHANNELS_FIRST)
                        .scale(Tensor.of(new float[2], 2)).build());
        assertMessage(transposed, "scale", "[2]", "[5]");
        assertThrows(IllegalArgumentException.class, () -> Conv.builder(kernel).activation(null));
    }

    @ParameterizedTest(autoCloseArguments = false)
    @MethodSource("backends")
    void residualOfTheWrongShapeIsRefused(ConvBackend backend) {
        // A channels-first Conv: input (1, 3, 4) gives output (1, 2, 4) with SAME padding.
        Tensor kernel = Tensor.of(new float[2 * 3 * 3], 2, 3, 3);
        Tensor x = Tensor.of(new float[12], 1, 3, 4);
        try (Conv layer = Conv.builder(kernel).layout(Layout.CHANNELS_FIRST).activation(Activation.relu())
                .backend(backend).build()) {
            int[] expected = layer.outputShape(x.shape());
            // The same output channels-last, as a flax user would pass it: refused, not reinterpreted.
            Tensor channelsLast = Tensor.of(new float[8], 1, 4, 2);
            IllegalArgumentException forward = assertThrows(IllegalArgumentException.class,
                    () -> layer.apply(x, channelsLast));
            assertMessage(forward, "residual", "[1, 4, 2]", Arrays.toString(expected));
            Tensor dy = Tensor.of(new float[8], expected);
            IllegalArgumentException backward = assertThrows(IllegalArgumentException.class,
                    () -> layer.backward(x, Tensor.of(new float[7], 7), dy));
            assertMessage(backward, "residual", "[7]", Arrays.toString(expected));
        }
        Tensor transposeKernel = Tensor.of(new float[6], 3, 1, 2);
        try (ConvTranspose layer = ConvTranspose.builder(transposeKernel)
                .spec(ConvTransposeSpec.builder().strides(2).padding(Padding.CIRCULAR).build()).backend(backend)
                .build()) {
            Tensor input = Tensor.of(new float[4], 4, 1);
            int[] expected = layer.outputShape(input.shape());
            IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                    () -> layer.apply(input, Tensor.of(new float[8], 4, 2)));
            assertMessage(refused, "residual", "[4, 2]", Arrays.toString(expected));
        }
    }

    @Test
    void descriptionsNameTheEpilogue() {
        Tensor kernel = Tensor.of(new float[4], 1, 2, 2);
        try (Conv layer = Conv.builder(kernel).scale(Tensor.of(new float[2], 2)).shift(Tensor.of(new float[2], 2))
                .activation(Activation.leakyRelu(0.25f)).spec(ConvSpec.defaults()).backend(CpuBackend.instance())
                .build()) {
            String text = layer.toString();
            assertTrue(text.contains("scale") && text.contains("shift") && text.contains("leaky_relu:0.25"), text);
            assertEquals(Activation.leakyRelu(0.25f), layer.activation());
        }
        try (ConvTranspose plain = ConvTranspose.builder(kernel).backend(CpuBackend.instance()).build()) {
            assertEquals(Activation.identity(), plain.activation());
            assertTrue(plain.scale() == null && plain.shift() == null, "no epilogue parts unless set");
        }
    }

    private static void assertMessage(IllegalArgumentException e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "'" + part + "' missing from: " + e.getMessage());
        }
    }
}
