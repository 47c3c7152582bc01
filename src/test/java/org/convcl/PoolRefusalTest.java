package org.convcl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.convcl.backend.cpu.CpuBackend;
import org.convcl.nn.Pool;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Every refusal of pooling at its edge: the last accepted value next to the first refused one, and the refusal
 * naming the parameter and the value.
 */
class PoolRefusalTest {

    private static void refused(Executable call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String fragment : fragments) {
            assertTrue(e.getMessage().contains(fragment), "'" + e.getMessage() + "' should contain '" + fragment + "'");
        }
    }

    private static PoolSpec.Builder window(int... window) {
        return PoolSpec.builder().window(window);
    }

    @Test
    void theWindowMustFitThePaddedInput() {
        int[] input = {2, 5, 4, 3};
        assertArrayEquals(new int[] {2, 1, 1, 3}, window(5, 4).build().resolve(input).outputShape());
        refused(() -> window(6, 4).build().resolve(input), "window", "6", "spatial dim 0", "padded input");
        refused(() -> window(5, 5).build().resolve(input), "window", "5", "spatial dim 1");
        PoolSpec padded = window(7, 4).padding(Padding.pairs(new int[] {1, 1}, new int[] {0, 0})).build();
        assertArrayEquals(new int[] {2, 1, 1, 3}, padded.resolve(input).outputShape());
        refused(() -> window(8, 4).padding(Padding.pairs(new int[] {1, 1}, new int[] {0, 0})).build().resolve(input),
                "window", "8");
        refused(() -> window(2).padding(Padding.SAME).build().resolve(new int[] {0, 1}), "window", "2");
        int big = 1 << 16;
        int fits = (int) (ConvGeometry.MAX_ELEMENTS / big);
        PoolSpec.Builder huge = window(big, fits).padding(Padding.pairs(new int[] {0, big}, new int[] {0, fits}));
        assertArrayEquals(new int[] {big, fits}, huge.build().resolve(new int[] {1, 1, 0}).window());
        refused(() -> huge.window(big, fits + 1).padding(Padding.pairs(new int[] {0, big}, new int[] {0, fits + 1}))
                .build().resolve(new int[] {1, 1, 0}), "window", "more than");
    }

    @Test
    void windowsAndStridesArePositiveWithOneValuePerDim() {
        window(1).build();
        refused(() -> window(0).build(), "window", "0", ">= 1");
        refused(() -> window(2, -1).build(), "window", "-1");
        refused(() -> PoolSpec.builder().build(), "window", "not set");
        refused(() -> window().build(), "window", "no values");
        window(2).strides(1).build();
        refused(() -> window(2).strides(0).build(), "strides", "0", ">= 1");
        window(2, 2).strides(1, 2).build();
        refused(() -> window(2, 2).strides(1, 2, 3).build(), "strides", "3 values", "2-d window");
        refused(() -> window(2).strides().build(), "strides", "no values");
    }

    @Test
    void paddingIsValidSameOrNonNegativeAmounts() {
        window(2).padding(Padding.VALID).build();
        window(2).padding(Padding.SAME).build();
        window(2).padding(Padding.of(0)).build();
        for (Padding named : new Padding[] {Padding.SAME_LOWER, Padding.CIRCULAR, Padding.REFLECT, Padding.CAUSAL}) {
            refused(() -> window(2).padding(named).build(), "padding", named.toString(), "VALID, SAME");
        }
        refused(() -> window(2).padding(Padding.of(-1)).build(), "padding", "-1", ">= 0");
        window(2).padding(Padding.pairs(new int[] {0, 0})).build();
        refused(() -> window(2).padding(Padding.pairs(new int[] {0, -1})).build(), "padding", "-1", ">= 0");
        refused(() -> window(2, 2).padding(Padding.pairs(new int[] {0, 0})).build(), "padding", "1 entries",
                "2-d window");
        refused(() -> window(2).padding(null).build(), "padding", "null");
    }

    @Test
    void theInputNeedsSpatialDimsAndChannels() {
        window(2, 2).build().resolve(new int[] {2, 2, 1});
        refused(() -> window(2, 2).build().resolve(new int[] {2, 2}), "input", "[2, 2]", "rank >= 3");
        refused(() -> window(2).build().resolve(null), "input", "null");
        Pool first = Pool.builder(PoolOp.MAX, window(2, 2).build()).layout(Layout.CHANNELS_FIRST)
                .backend(CpuBackend.sequential()).build();
        assertArrayEquals(new int[] {3, 1, 1}, first.outputShape(3, 2, 2));
        refused(() -> first.outputShape(2, 2), "input", "[2, 2]", "(*batch, C, *spatial)");
    }

    @Test
    void theLayerRefusesMissingSettingsAndMismatchedGradients() {
        PoolSpec spec = window(2).build();
        refused(() -> Pool.builder(null, spec), "op", "null");
        refused(() -> Pool.builder(PoolOp.MAX, null), "spec", "null");
        refused(() -> Pool.builder(PoolOp.MAX, spec).layout(null), "layout", "null");
        refused(() -> Pool.builder(PoolOp.MAX, spec).backend(null), "backend", "null");
        Pool pool = Pool.builder(PoolOp.AVG, spec).backend(CpuBackend.sequential()).build();
        Tensor x = Tensor.zeros(4, 1);
        pool.backward(x, Tensor.zeros(3, 1));
        refused(() -> pool.backward(x, Tensor.zeros(4, 1)), "dy", "[4, 1]", "[3, 1]");
        refused(() -> pool.backward(x, null), "dy", "null");
        refused(() -> pool.apply((Tensor) null), "x", "null");
    }
}
