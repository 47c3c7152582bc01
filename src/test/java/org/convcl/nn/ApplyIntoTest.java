package org.convcl.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.convcl.Activation;
import org.convcl.ConvSpec;
import org.convcl.ConvTransposeSpec;
import org.convcl.Layout;
import org.convcl.Padding;
import org.convcl.PoolOp;
import org.convcl.PoolSpec;
import org.convcl.Tensor;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.testing.RandomTensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The host forms that write into a caller-owned output ({@link Conv#apply(Tensor, Tensor, Tensor)},
 * {@link ConvTranspose#apply(Tensor, Tensor, Tensor)}, {@link Pool#apply(Tensor, Tensor)}) on the Java path: the
 * allocating form's values bit for bit over an output that held NaN, and the refusals of a misshapen one or one on
 * the input's array (the residual's own tensor as the output is {@code InPlaceResidualTest}'s).
 */
class ApplyIntoTest {
    private final SplittableRandom random = new SplittableRandom(27);

    @ParameterizedTest
    @EnumSource(Layout.class)
    void convIntoOutputMatchesTheAllocatingForm(Layout layout) {
        boolean first = layout == Layout.CHANNELS_FIRST;
        Tensor kernel = first ? random(6, 2, 3, 3) : random(3, 3, 2, 6);
        ConvSpec spec = ConvSpec.builder().strides(2).groups(2).padding(Padding.SAME).build();
        Conv conv = Conv.builder(kernel).spec(spec).bias(random(6)).scale(random(6)).shift(random(6))
                .activation(Activation.relu()).layout(layout).backend(CpuBackend.instance()).build();
        Tensor x = first ? random(2, 4, 9, 7) : random(2, 9, 7, 4);
        Tensor residual = random(conv.outputShape(x.shape()));
        Tensor out = nans(conv.outputShape(x.shape()));
        conv.apply(x, residual, out);
        assertArrayEquals(conv.apply(x, residual).data(), out.data());
        conv.apply(x, null, out);
        assertArrayEquals(conv.apply(x).data(), out.data());
    }

    @Test
    void circularConvTransposeIntoOutputMatchesTheAllocatingForm() {
        // CIRCULAR padding folds an unwrapped output onto the layer's: the fold's store writes out.
        ConvTransposeSpec spec = ConvTransposeSpec.builder().strides(2).padding(Padding.CIRCULAR).build();
        ConvTranspose layer = ConvTranspose.builder(random(3, 3, 4, 5)).spec(spec).bias(random(5))
                .backend(CpuBackend.instance()).build();
        Tensor x = random(2, 5, 6, 4);
        Tensor residual = random(layer.outputShape(x.shape()));
        Tensor out = nans(layer.outputShape(x.shape()));
        layer.apply(x, residual, out);
        assertArrayEquals(layer.apply(x, residual).data(), out.data());
    }

    @ParameterizedTest
    @EnumSource(Layout.class)
    void poolIntoOutputMatchesTheAllocatingForm(Layout layout) {
        PoolSpec spec = PoolSpec.builder().window(3, 3).strides(2, 2)
                .padding(new Padding.Explicit(new int[] {1, 1}, new int[] {1, 1})).build();
        Pool pool = Pool.builder(PoolOp.MAX, spec).layout(layout).backend(CpuBackend.instance()).build();
        Tensor x = random(2, 8, 9, 3);
        Tensor out = nans(pool.outputShape(x.shape()));
        pool.apply(x, out);
        assertArrayEquals(pool.apply(x).data(), out.data());
    }

    @Test
    void refusesAnOutputOfAnotherShapeNamingBothShapes() {
        Conv conv = Conv.builder(random(3, 3, 2, 4)).backend(CpuBackend.instance()).build();
        Tensor x = random(1, 5, 5, 2);
        String expected = Arrays.toString(conv.outputShape(x.shape()));
        String message = assertThrows(IllegalArgumentException.class,
                () -> conv.apply(x, null, Tensor.zeros(1, 5, 4, 5))).getMessage();
        assertTrue(message.startsWith("out:") && message.contains("[1, 5, 4, 5]") && message.contains(expected),
                message);
        Pool pool = Pool.builder(PoolOp.AVG, PoolSpec.builder().window(2, 2).build())
                .backend(CpuBackend.instance()).build();
        String poolMessage = assertThrows(IllegalArgumentException.class,
                () -> pool.apply(x, Tensor.zeros(1, 5, 5, 2))).getMessage();
        assertTrue(poolMessage.startsWith("out:") && poolMessage.contains(Arrays.toString(pool.outputShape(
                x.shape()))), poolMessage);
    }

    @Test
    void refusesAnOutputSharingTheInputsArrayOrTheResidualsArrayInAnotherShape() {
        // SAME padding, stride 1 and as many output channels as input ones: x itself has the output's shape.
        Conv conv = Conv.builder(random(3, 3, 2, 2)).backend(CpuBackend.instance()).build();
        Tensor x = random(1, 5, 5, 2);
        Tensor residual = random(1, 5, 5, 2);
        String message = assertThrows(IllegalArgumentException.class, () -> conv.apply(x, null, x)).getMessage();
        assertTrue(message.startsWith("out:") && message.contains("input x"), message);
        String withResidual = assertThrows(IllegalArgumentException.class,
                () -> conv.apply(x, x, x)).getMessage();
        assertTrue(withResidual.startsWith("out:") && withResidual.contains("input x"), withResidual);
        // The residual's own elements in another shape: not the same tensor, refused by the output's shape.
        String reshaped = assertThrows(IllegalArgumentException.class,
                () -> conv.apply(x, residual, residual.reshape(1, 25, 2))).getMessage();
        assertTrue(reshaped.startsWith("out:") && reshaped.contains("[1, 25, 2]"), reshaped);
    }

    private Tensor random(int... shape) {
        return RandomTensors.uniform(random, shape);
    }

    private static Tensor nans(int... shape) {
        Tensor tensor = Tensor.zeros(shape);
        Arrays.fill(tensor.data(), Float.NaN);
        return tensor;
    }
}
