package org.convcl.cli;

import java.util.List;
import org.convcl.ConvSpec;
import org.convcl.Padding;

/**
 * The seed's examples: the configurations of the golden suite's "seed" section (flax's own documentation
 * examples: SAME with zero, one and two batch dims, VALID, causal padding, kernel and input dilation,
 * circular and reflect padding, four spatial dims), with the output shapes flax produced for them.
 */
final class SeedExamples {
    private SeedExamples() {
    }

    /** One example: what flax was given and the output shape it produced. */
    record Example(String name, String what, int[] inputShape, int[] kernelShape, ConvSpec spec,
            int[] expectedOutputShape) {
    }

    static List<Example> all() {
        return List.of(
                new Example("seed_same_2d_unbatched", "SAME, 5x5 kernel, 3->4 channels, no batch dim",
                        shape(32, 32, 3), shape(5, 5, 3, 4), spec().build(), shape(32, 32, 4)),
                new Example("seed_same_2d_batched", "SAME, 5x5 kernel, one batch dim",
                        shape(1, 32, 32, 3), shape(5, 5, 3, 4), spec().build(), shape(1, 32, 32, 4)),
                new Example("seed_same_2d_two_batch_dims", "SAME, 5x5 kernel, two batch dims",
                        shape(2, 1, 16, 16, 3), shape(5, 5, 3, 4), spec().build(), shape(2, 1, 16, 16, 4)),
                new Example("seed_valid_1d", "VALID, kernel 5",
                        shape(128, 100, 3), shape(5, 3, 4), spec().padding(Padding.VALID).build(),
                        shape(128, 96, 4)),
                new Example("seed_causal_pairs_1d", "padding [(4, 0)]: causal by hand, kernel 5",
                        shape(100, 3), shape(5, 3, 4), spec().padding(Padding.pairs(new int[] {4, 0})).build(),
                        shape(100, 4)),
                new Example("causal_1d", "CAUSAL, kernel 5 (the same as [(4, 0)])",
                        shape(100, 3), shape(5, 3, 4), spec().padding(Padding.CAUSAL).build(), shape(100, 4)),
                new Example("seed_kernel_dilation_1d", "VALID, kernel 7, kernel dilation 2",
                        shape(224, 5), shape(7, 5, 6), spec().padding(Padding.VALID).kernelDilation(2).build(),
                        shape(212, 6)),
                new Example("seed_input_dilation_1d", "padding [(0, 0)], kernel 7, input dilation 2",
                        shape(224, 5), shape(7, 5, 6),
                        spec().padding(Padding.pairs(new int[] {0, 0})).inputDilation(2).build(), shape(441, 6)),
                new Example("seed_circular_2d", "CIRCULAR, 3x3 kernel",
                        shape(2, 9, 9, 3), shape(3, 3, 3, 4), spec().padding(Padding.CIRCULAR).build(),
                        shape(2, 9, 9, 4)),
                new Example("seed_reflect_2d", "REFLECT, 3x3 kernel",
                        shape(2, 9, 9, 3), shape(3, 3, 3, 4), spec().padding(Padding.REFLECT).build(),
                        shape(2, 9, 9, 4)),
                new Example("seed_4_spatial_dims", "SAME, 2x3x2x3 kernel, four spatial dims",
                        shape(1, 4, 5, 4, 6, 2), shape(2, 3, 2, 3, 2, 3), spec().build(), shape(1, 4, 5, 4, 6, 3)));
    }

    private static ConvSpec.Builder spec() {
        return ConvSpec.builder();
    }

    private static int[] shape(int... dims) {
        return dims;
    }
}
