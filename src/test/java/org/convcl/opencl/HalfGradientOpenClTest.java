package org.convcl.opencl;

import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.convcl.ConvGeometry;
import org.convcl.DType;
import org.convcl.Tensor;
import org.convcl.testing.GoldenCase;
import org.convcl.testing.OpenClBackendPerClass;
import org.convcl.testing.RandomTensors;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The gradients of a convolution on float16 and bfloat16 device tensors (issue 26), as a layer's device backward
 * pass runs them: dx as a forward convolution of the output gradient with the kernel flipped on the device (for
 * CIRCULAR and REFLECT into a padded 16-bit temporary that the fold sums back), dkernel by the kernel-gradient
 * reduction, both in the operands' type with float32 sums, and dbias in float32; {@link HalfGradientCheck} holds
 * them to float64 on the rounded operands. A few golden gradient cases reach the plain, strided and dilated,
 * grouped with input dilation, and CIRCULAR (fold) forms; the cotangent is random, rounded to the type; two cases
 * mask the kernel gradient on the device. Every golden gradient case, with its own cotangent, runs in
 * HalfGoldenExhaustiveOpenClTest (outside the default run).
 */
class HalfGradientOpenClTest {
    @RegisterExtension
    static final OpenClBackendPerClass OPENCL = new OpenClBackendPerClass();

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("grad_conv2d_basic", DType.FLOAT16, false),
                Arguments.of("grad_conv2d_basic", DType.BFLOAT16, true),
                Arguments.of("grad_conv2d_strided_dilated", DType.FLOAT16, true),
                Arguments.of("grad_conv1d_input_dilation_groups", DType.BFLOAT16, false),
                Arguments.of("grad_circular", DType.FLOAT16, false),
                Arguments.of("grad_circular", DType.BFLOAT16, false));
    }

    /** {@code masked}: the kernel gradient multiplied on the device by a 16-bit mask of zeros and ones. */
    @ParameterizedTest(name = "{0} in {1} (masked: {2})")
    @MethodSource("cases")
    void matchFloat64OnTheRoundedOperands(String name, DType dtype, boolean masked) {
        GoldenCase c = GoldenCase.all().stream().filter(g -> g.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError(name + " is no golden case"));
        Tensor w = c.array("kernel");
        ConvGeometry g = c.spec().resolve(c.array("x").shape(), w.shape());
        Tensor dy = RandomTensors.uniform(new SplittableRandom(name.hashCode()), g.outputShape());
        Tensor mask = masked ? zerosAndOnes(new SplittableRandom(~name.hashCode()), w.shape()) : null;
        HalfGradientCheck.assertWithinBound(OPENCL.backend(), c, dtype, dy, mask);
    }

    /** A mask of zeros and ones, about half each: a product by it is exact, so dkernel keeps its bound. */
    private static Tensor zerosAndOnes(SplittableRandom random, int[] shape) {
        Tensor mask = Tensor.zeros(shape);
        for (int i = 0; i < mask.size(); i++) {
            mask.data()[i] = random.nextBoolean() ? 1 : 0;
        }
        return mask;
    }
}
