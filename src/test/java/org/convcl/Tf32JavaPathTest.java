package org.convcl;

import org.convcl.nn.Convolution;
import org.convcl.nn.ConvTranspose;
import org.convcl.nn.Conv;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.stream.Stream;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.internal.Tf32;
import org.convcl.testing.ConvTransposeReference;
import org.convcl.testing.GoldenCase;
import org.convcl.testing.NaiveConv;
import org.convcl.testing.RandomConfigs;
import org.convcl.testing.Reference;
import org.convcl.testing.Tf32Checks;
import org.convcl.testing.Tolerance;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The Java path in TF32: the golden suite against float64 with the TF32 tolerance, and what TF32 means exactly. */
class Tf32JavaPathTest {

    static Stream<GoldenCase> convCases() {
        return GoldenCase.ofOp("conv").stream().filter(c -> c.error() == null);
    }

    static Stream<GoldenCase> gradientCases() {
        return GoldenCase.all().stream().filter(GoldenCase::grads);
    }

    static Stream<GoldenCase> transposeCases() {
        return GoldenCase.ofOp("conv_transpose").stream().filter(c -> c.error() == null);
    }

    private static Conv layer(GoldenCase c) {
        return Conv.builder(c.array("kernel")).bias(c.has("bias") ? c.array("bias") : null)
                .spec(Tf32Checks.tf32(c.spec())).backend(CpuBackend.instance()).build();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("convCases")
    void goldenForwardCases(GoldenCase c) {
        Tf32Checks.assertForward(c, layer(c).apply(c.array("x")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("gradientCases")
    void goldenGradientCases(GoldenCase c) {
        Tf32Checks.assertGradients(c, layer(c).backward(c.array("x"), c.array("ct")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("transposeCases")
    void goldenTransposeCases(GoldenCase c) {
        Tensor y = ConvTranspose.builder(c.array("kernel")).bias(c.has("bias") ? c.array("bias") : null)
                .spec(Tf32Checks.tf32(ConvTransposeReference.spec(c))).backend(CpuBackend.instance()).build()
                .apply(c.array("x"));
        double[] bias = c.has("bias") ? Tolerance.toDouble(c.array("bias").data()) : null;
        NaiveConv.Result reference = ConvTransposeReference.of(c).forward(Tolerance.toDouble(c.array("x").data()),
                Tolerance.toDouble(c.array("kernel").data()), bias);
        Tolerance.assertCloseTf32(c.name(), reference.shape(), c.reference("y"), reference.absSums(), y.shape(),
                y.data());
    }

    /**
     * TF32 is float32 arithmetic on rounded operands, nothing else: the forward pass and the kernel gradient equal,
     * bit for bit, the float32 ones on operands rounded beforehand (depthwise ones equal float32 on the operands
     * as they are); and on random data rounding changes results, so the setting is not ignored.
     */
    @Test
    void tf32IsFloat32OnRoundedOperands() {
        Random random = new Random(1616);
        int changed = 0;
        for (int trial = 0; trial < 40; trial++) {
            RandomConfigs.ConvConfig config = RandomConfigs.conv(random);
            ConvSpec highest = config.spec();
            ConvSpec tf32 = Tf32Checks.tf32(highest);
            Tensor x = Tensor.of(RandomConfigs.values(random, (int) Tensor.elementCount(config.xShape())),
                    config.xShape());
            Tensor kernel = Tensor.of(RandomConfigs.values(random, (int) Tensor.elementCount(config.wShape())),
                    config.wShape());
            ConvGeometry g = tf32.resolve(x.shape(), kernel.shape());
            boolean rounds = g.productPrecision() == Precision.TF32;
            Tensor xOperand = rounds ? Tensor.of(Tf32.roundedCopy(x.data()), x.shape()) : x;
            Tensor kernelOperand = rounds ? Tensor.of(Tf32.roundedCopy(kernel.data()), kernel.shape()) : kernel;

            Tensor y = Convolution.conv(x, kernel, null, tf32, CpuBackend.instance());
            Tensor expected = Convolution.conv(xOperand, kernelOperand, null, highest, CpuBackend.instance());
            assertArrayEquals(expected.data(), y.data(), config + ": forward");

            Tensor dy = Tensor.of(RandomConfigs.values(random, y.data().length), y.shape());
            Tensor dyOperand = rounds ? Tensor.of(Tf32.roundedCopy(dy.data()), dy.shape()) : dy;
            Tensor dkernel = Convolution.convBackward(x, kernel, null, tf32, dy, CpuBackend.instance()).dkernel();
            Tensor expectedDkernel = Convolution.convBackward(xOperand, kernel, null, highest, dyOperand,
                    CpuBackend.instance()).dkernel();
            assertArrayEquals(expectedDkernel.data(), dkernel.data(), config + ": kernel gradient");

            float[] float32 = Convolution.conv(x, kernel, null, highest, CpuBackend.instance()).data();
            if (rounds && !java.util.Arrays.equals(float32, y.data())) {
                changed++;
            }
        }
        assertTrue(changed >= 10, "TF32 changed the results of only " + changed + " of 40 random convolutions");
    }

    @Test
    void randomConfigsAgreeWithFloat64() {
        Random random = new Random(1617);
        for (int trial = 0; trial < 40; trial++) {
            RandomConfigs.ConvConfig config = RandomConfigs.conv(random);
            ConvSpec spec = Tf32Checks.tf32(config.spec());
            float[] x = RandomConfigs.values(random, (int) Tensor.elementCount(config.xShape()));
            float[] w = RandomConfigs.values(random, (int) Tensor.elementCount(config.wShape()));
            Tensor y = Convolution.conv(Tensor.of(x, config.xShape()), Tensor.of(w, config.wShape()), null, spec,
                    CpuBackend.instance());
            NaiveConv.Result reference = Reference.forward(Tolerance.toDouble(x), config.xShape(),
                    Tolerance.toDouble(w), config.wShape(), null, spec.strides(), spec.inputDilation(),
                    spec.kernelDilation(), spec.padding(), spec.groups());
            Tolerance.assertCloseTf32(config.toString(), reference.shape(), reference.values(), reference.absSums(),
                    y.shape(), y.data());
        }
    }
}
