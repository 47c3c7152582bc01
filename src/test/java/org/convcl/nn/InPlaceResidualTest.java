package org.convcl.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.convcl.Tensor;
import org.convcl.backend.cpu.CpuBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The in-place residual add on the Java path ({@code apply(x, r, r)}: the output written over the residual's own
 * array) on every kernel route ({@link InPlaceResidualCases}): bit for bit the call into an output of its own on a
 * copy of the same residual, which the epilogue tests check against the float64 references. The routes that store
 * sums before the residual is read (a 1x1 tile's reduction chunks and register blocks, Winograd tiles, rows, the
 * fold) would otherwise read their own sums back as the residual.
 */
@Timeout(120)
class InPlaceResidualTest {
    static List<InPlaceResidualCases.Case> cases() {
        return InPlaceResidualCases.all();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void writingOverTheResidualEqualsWritingBesideIt(InPlaceResidualCases.Case c) {
        SplittableRandom random = new SplittableRandom(c.name().hashCode());
        try (InPlaceResidualCases.Layer layer = c.layer(CpuBackend.instance(), random)) {
            Tensor x = InPlaceResidualCases.random(random, c.inputShape());
            int[] outputShape = layer.outputShape(x.shape());
            Tensor residual = InPlaceResidualCases.random(random, outputShape);
            Tensor beside = Tensor.zeros(outputShape);
            Arrays.fill(beside.data(), Float.NaN);
            layer.apply(x, Tensor.of(residual.data().clone(), outputShape), beside);
            Tensor over = Tensor.of(residual.data().clone(), outputShape);
            layer.apply(x, over, over);
            assertArrayEquals(beside.data(), over.data(), c.name());
            Tensor withoutResidual = Tensor.zeros(outputShape);
            layer.apply(x, null, withoutResidual);
            assertFalse(Arrays.equals(beside.data(), withoutResidual.data()), c.name() + ": the residual counts");
        }
    }

    @Test
    void refusesAnOutputOnTheInputsArrayEvenAsTheResidual() {
        // SAME padding, stride 1 and as many output channels as input ones: x itself has the output's shape.
        SplittableRandom random = new SplittableRandom(5);
        Conv conv = Conv.builder(InPlaceResidualCases.random(random, 1, 1, 4, 4)).backend(CpuBackend.instance())
                .build();
        Tensor x = InPlaceResidualCases.random(random, 1, 3, 3, 4);
        String message = assertThrows(IllegalArgumentException.class, () -> conv.apply(x, x, x)).getMessage();
        assertTrue(message.startsWith("out:") && message.contains("input x"), message);
    }

    @Test
    void refusesTheResidualsArrayInAnotherShape() {
        SplittableRandom random = new SplittableRandom(6);
        Conv conv = Conv.builder(InPlaceResidualCases.random(random, 1, 1, 4, 4)).backend(CpuBackend.instance())
                .build();
        Tensor x = InPlaceResidualCases.random(random, 1, 3, 3, 4);
        Tensor residual = InPlaceResidualCases.random(random, 1, 3, 3, 4);
        float[] before = residual.data().clone();
        String message = assertThrows(IllegalArgumentException.class,
                () -> conv.apply(x, residual, residual.reshape(1, 9, 4))).getMessage();
        assertTrue(message.startsWith("out:") && message.contains("[1, 9, 4]") && message.contains("[1, 3, 3, 4]"),
                message);
        assertArrayEquals(before, residual.data(), "refused before anything was written");
    }
}
