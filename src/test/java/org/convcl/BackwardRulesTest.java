package org.convcl;

import org.convcl.nn.ConvTranspose;
import org.convcl.nn.ConvGradients;
import org.convcl.nn.Conv;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.internal.KernelLayout;
import org.convcl.testing.ConvReference;
import org.convcl.testing.GradientCheck;
import org.convcl.testing.RandomConfigs;
import org.convcl.testing.Tolerance;
import org.junit.jupiter.api.Test;

/** Shapes, degenerate sizes and refusals of Conv.backward and ConvTranspose. */
class BackwardRulesTest {
    private static final Random RANDOM = new Random(7);

    private static Tensor random(int... shape) {
        return Tensor.of(RandomConfigs.values(RANDOM, (int) Tensor.elementCount(shape)), shape);
    }

    private static Conv conv(Tensor kernel, Tensor bias, ConvSpec spec) {
        return Conv.builder(kernel).bias(bias).spec(spec).backend(CpuBackend.instance()).build();
    }

    private static ConvTranspose transpose(Tensor kernel, ConvTransposeSpec spec) {
        return ConvTranspose.builder(kernel).spec(spec).backend(CpuBackend.instance()).build();
    }

    @Test
    void cotangentOfTheWrongShapeIsRefusedNamingTheExpectedShape() {
        Conv layer = conv(random(3, 3, 2, 4), null, ConvSpec.defaults());
        IllegalArgumentException refusal = assertThrows(IllegalArgumentException.class,
                () -> layer.backward(random(1, 5, 5, 2), random(1, 5, 5, 3)));
        assertTrue(refusal.getMessage().startsWith("dy:"), refusal.getMessage());
        assertTrue(refusal.getMessage().contains("[1, 5, 5, 4]"), refusal.getMessage());
        assertThrows(IllegalArgumentException.class, () -> layer.backward(random(1, 5, 5, 2), null));
        assertThrows(IllegalArgumentException.class, () -> layer.backward(null, random(1, 5, 5, 4)));
    }

    @Test
    void gradientShapesFollowTheParameters() {
        Tensor kernel = random(2, 3, 2, 6);
        Conv layer = conv(kernel, random(6), ConvSpec.builder().groups(2).strides(2).build());
        Tensor x = random(2, 3, 7, 5, 4);
        ConvGradients grads = layer.backward(x, random(layer.geometry(x.shape()).outputShape()));
        assertArrayEquals(x.shape(), grads.dx().shape());
        assertArrayEquals(kernel.shape(), grads.dkernel().shape());
        assertArrayEquals(new int[] {6}, grads.dbias().shape());
    }

    @Test
    void unbatchedInputGivesTheGradientsOfABatchOfOne() {
        Conv layer = conv(random(3, 2, 3), random(3), ConvSpec.builder().padding(Padding.REFLECT).build());
        Tensor x = random(6, 2);
        Tensor dy = random(6, 3);
        ConvGradients unbatched = layer.backward(x, dy);
        ConvGradients batched = layer.backward(x.reshape(1, 6, 2), dy.reshape(1, 6, 3));
        assertArrayEquals(new int[] {6, 2}, unbatched.dx().shape());
        assertArrayEquals(batched.dx().data(), unbatched.dx().data());
        assertArrayEquals(batched.dkernel().data(), unbatched.dkernel().data());
        assertArrayEquals(batched.dbias().data(), unbatched.dbias().data());
    }

    @Test
    void emptyOutputGivesZeroGradients() {
        // VALID with a kernel longer than the input: no output, so nothing depends on anything.
        Conv layer = conv(random(5, 2, 3), random(3), ConvSpec.builder().padding(Padding.VALID).build());
        Tensor x = random(2, 3, 2);
        ConvGradients grads = layer.backward(x, Tensor.zeros(2, 0, 3));
        assertArrayEquals(new float[x.size()], grads.dx().data());
        assertArrayEquals(new float[5 * 2 * 3], grads.dkernel().data());
        assertArrayEquals(new float[3], grads.dbias().data());
    }

    @Test
    void emptyInputGivesEmptyInputGradient() {
        Conv layer = conv(random(3, 2, 3), null, ConvSpec.defaults());
        ConvGradients grads = layer.backward(Tensor.zeros(2, 0, 2), Tensor.zeros(2, 0, 3));
        assertArrayEquals(new int[] {2, 0, 2}, grads.dx().shape());
        assertArrayEquals(new float[3 * 2 * 3], grads.dkernel().data());
        assertNull(grads.dbias());
    }

    @Test
    void gradientsFlowBackThroughSeveralWrapsAndMirrors() {
        // Kernels longer than the input: CIRCULAR wraps around it more than once and REFLECT mirrors twice,
        // so one input element is read by several taps of one output.
        for (Padding padding : new Padding[] {Padding.CIRCULAR, Padding.REFLECT}) {
            for (int length : new int[] {1, 2, 3}) {
                ConvSpec spec = ConvSpec.builder().padding(padding).kernelDilation(2).build();
                RandomConfigs.ConvConfig config = new RandomConfigs.ConvConfig(new int[] {2, length, 2},
                        new int[] {4, 2, 3}, spec);
                Conv layer = conv(random(config.wShape()), random(3), spec);
                Tensor x = random(config.xShape());
                Tensor dy = random(layer.geometry(x.shape()).outputShape());
                GradientCheck.assertGradients(config.toString(), ConvReference.of(config),
                        Tolerance.toDouble(x.data()), Tolerance.toDouble(layer.kernel().data()),
                        Tolerance.toDouble(dy.data()), true, layer.backward(x, dy), RANDOM);
            }
        }
    }

    @Test
    void transposePaddingsJaxRefusesAreRefused() {
        Tensor kernel = random(3, 2, 2);
        for (Padding padding : new Padding[] {Padding.REFLECT, Padding.CAUSAL}) {
            IllegalArgumentException refusal = assertThrows(IllegalArgumentException.class,
                    () -> transpose(kernel, ConvTransposeSpec.builder().padding(padding).build()));
            assertTrue(refusal.getMessage().startsWith("padding: " + padding), refusal.getMessage());
        }
        ConvTranspose strided = transpose(kernel, ConvTransposeSpec.builder().padding(Padding.SAME_LOWER).strides(2)
                .build());
        IllegalArgumentException refusal = assertThrows(IllegalArgumentException.class,
                () -> strided.apply(random(1, 4, 2)));
        assertTrue(refusal.getMessage().contains("SAME_LOWER"), refusal.getMessage());
        ConvTranspose unitStride = transpose(kernel, ConvTransposeSpec.builder().padding(Padding.SAME_LOWER).build());
        assertArrayEquals(new int[] {1, 4, 2}, unitStride.apply(random(1, 4, 2)).shape());
    }

    @Test
    void transposeRefusesFourSpatialDimsAsFlaxDoes() {
        IllegalArgumentException refusal = assertThrows(IllegalArgumentException.class,
                () -> transpose(random(1, 1, 1, 1, 2, 2), ConvTransposeSpec.defaults()));
        assertTrue(refusal.getMessage().contains("at most 3"), refusal.getMessage());
    }

    @Test
    void transposeRefusesMismatchedChannelsBiasAndMask() {
        ConvTranspose layer = transpose(random(3, 2, 4), ConvTransposeSpec.defaults());
        IllegalArgumentException channels = assertThrows(IllegalArgumentException.class,
                () -> layer.apply(random(1, 5, 3)));
        assertTrue(channels.getMessage().startsWith("kernel:"), channels.getMessage());
        ConvTranspose transposed = transpose(random(3, 2, 4),
                ConvTransposeSpec.builder().transposeKernel(true).build());
        assertArrayEquals(new int[] {1, 5, 2}, transposed.apply(random(1, 5, 4)).shape());
        assertThrows(IllegalArgumentException.class,
                () -> ConvTranspose.builder(random(3, 2, 4)).bias(random(2)).build());
        assertThrows(IllegalArgumentException.class,
                () -> ConvTranspose.builder(random(3, 2, 4)).mask(random(3, 4, 2)).build());
        assertThrows(IllegalArgumentException.class, () -> ConvTranspose.builder(random(3, 2, 4))
                .spec(ConvTransposeSpec.builder().padding(Padding.CIRCULAR).build()).build()
                .apply(Tensor.zeros(1, 0, 2)));
    }

    @Test
    void transposeOutputLengthsFollowTheStrides() {
        Tensor x = random(2, 5, 3);
        int[] same = transpose(random(4, 3, 2), ConvTransposeSpec.builder().strides(3).build()).apply(x).shape();
        assertArrayEquals(new int[] {2, 15, 2}, same);
        int[] valid = transpose(random(4, 3, 2), ConvTransposeSpec.builder().strides(3).padding(Padding.VALID)
                .build()).apply(x).shape();
        assertArrayEquals(new int[] {2, 5 * 3 + 1, 2}, valid);
        int[] circular = transpose(random(4, 3, 2), ConvTransposeSpec.builder().strides(3)
                .padding(Padding.CIRCULAR).build()).apply(x).shape();
        assertArrayEquals(new int[] {2, 15, 2}, circular);
    }

    @Test
    void flipSwapIsItsOwnInverseAndSwapsWithinGroups() {
        int[] shape = {2, 3, 2, 6};
        float[] kernel = random(shape).data();
        float[] once = KernelLayout.flipSwap(kernel, shape, 3);
        int[] onceShape = KernelLayout.flipSwapShape(shape, 3);
        assertArrayEquals(new int[] {2, 3, 2, 6}, onceShape);
        assertArrayEquals(kernel, KernelLayout.flipSwap(once, onceShape, 3));
        // Group 1, a = 1, b = 0 at tap (0, 0) lands at tap (1, 2), row b = 0, column 1 * A + a = 3.
        assertEquals(kernel[1 * 6 + 1 * 2 + 0], once[(1 * 3 + 2) * 12 + 0 * 6 + 3]);
    }
}
