package org.convcl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.backend.internal.CpuEdges;
import org.convcl.backend.internal.HalfHostEdges;
import org.convcl.backend.internal.HalfHostEpilogue;
import org.convcl.testing.GoldenCase;
import org.convcl.testing.HalfBound;
import org.convcl.testing.NaiveGradients;
import org.convcl.testing.RandomTensors;
import org.convcl.testing.Tolerance;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The kernel and bias gradients on float16 and bfloat16 host bits on the Java path (issue 26): golden gradient
 * cases against float64 ({@link NaiveGradients}) on the rounded operands and cotangent, the kernel gradient within
 * {@link HalfBound}'s bound (K the products summed into a value: the output positions of the batch), the bias
 * gradient float32 within the float32 sum's bound; both bit for bit the float32 forms on the decoded operands (the
 * kernel gradient rounded once), which the Java path's in-worker conversion sums in the same order. The 16-bit
 * fold (a CIRCULAR ConvTranspose's, a CIRCULAR or REFLECT dx's), bias and epilogue included, bit for bit the float32
 * fold on the decoded operands, rounded. A non-finite output gradient, and the refusals.
 */
class HalfGradientJavaPathTest {

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("grad_conv2d_basic", DType.FLOAT16),
                Arguments.of("grad_conv2d_basic", DType.BFLOAT16),
                Arguments.of("grad_conv2d_strided_dilated", DType.FLOAT16),
                Arguments.of("grad_conv1d_input_dilation_groups", DType.BFLOAT16),
                Arguments.of("grad_circular", DType.FLOAT16));
    }

    @ParameterizedTest(name = "{0} in {1}")
    @MethodSource("cases")
    void matchFloat64OnTheRoundedOperands(String name, DType dtype) {
        GoldenCase c = GoldenCase.all().stream().filter(g -> g.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError(name + " is no golden case"));
        Tensor x = HalfBound.rounded(c.array("x"), dtype);
        Tensor w = HalfBound.rounded(c.array("kernel"), dtype);
        ConvGeometry g = c.spec().resolve(x.shape(), w.shape());
        Tensor dy = HalfBound.rounded(RandomTensors.uniform(new SplittableRandom(name.hashCode()),
                g.outputShape()), dtype);
        short[] input = HalfFloats.encode(dtype, x.data());
        short[] cotangent = HalfFloats.encode(dtype, dy.data());
        int rows = dy.size() / g.outChannels();

        short[] dkernel = new short[w.size()];
        CpuBackend.instance().kernelGradient(g, dtype, input, cotangent, dkernel);
        float[] dbias = new float[g.outChannels()];
        CpuBackend.instance().biasGradient(rows, g.outChannels(), dtype, cotangent, dbias);

        NaiveGradients.Result reference = NaiveGradients.of(Tolerance.toDouble(x.data()), x.shape(),
                Tolerance.toDouble(w.data()), w.shape(), Tolerance.toDouble(dy.data()), c.strides(),
                c.inputDilation(), c.kernelDilation(), c.libraryPadding(), c.groups());
        HalfBound.assertWithin(name + " dkernel", dtype, rows, false, reference.dk(), reference.dkAbs(),
                HalfFloats.decode(dtype, dkernel));
        double[] sums = new double[g.outChannels()];
        double[] absSums = new double[g.outChannels()];
        for (int i = 0; i < dy.size(); i++) {
            sums[i % sums.length] += dy.data()[i];
            absSums[i % sums.length] += Math.abs(dy.data()[i]);
        }
        HalfBound.assertFloat32SumWithin(name + " dbias in " + dtype.cliName(), rows, sums, absSums, dbias);

        float[] wideKernel = new float[w.size()];
        CpuBackend.instance().kernelGradient(g, x.data(), dy.data(), wideKernel);
        assertArrayEquals(HalfFloats.encode(dtype, wideKernel), dkernel, name + ": the float32 dkernel, rounded");
        float[] wideBias = new float[g.outChannels()];
        CpuBackend.instance().biasGradient(rows, g.outChannels(), dy.data(), wideBias);
        assertArrayEquals(wideBias, dbias, name + ": the float32 dbias");
    }

    /**
     * An infinite output gradient over zero padding: NaN in the kernel gradient where the float32 path writes it
     * (the whole-array route), and the bias gradient's infinity.
     */
    @Test
    void nonFiniteOutputGradientsPropagateAsInFloat32() {
        SplittableRandom random = new SplittableRandom(17);
        Tensor x = RandomTensors.uniform(random, 1, 5, 5, 2);
        ConvGeometry g = ConvSpec.builder().padding(Padding.SAME).build().resolve(x.shape(), new int[] {3, 3, 2, 3});
        DType dtype = DType.FLOAT16;
        float[] dy = RandomTensors.uniform(random, g.outputShape()).data();
        dy[0] = Float.POSITIVE_INFINITY;
        short[] input = HalfFloats.encode(dtype, x.data());
        short[] cotangent = HalfFloats.encode(dtype, dy);
        short[] dkernel = new short[3 * 3 * 2 * 3];
        CpuBackend.instance().kernelGradient(g, dtype, input, cotangent, dkernel);
        float[] wide = new float[dkernel.length];
        CpuBackend.instance().kernelGradient(g, HalfFloats.decode(dtype, input), HalfFloats.decode(dtype, cotangent),
                wide);
        assertArrayEquals(HalfFloats.encode(dtype, wide), dkernel);
        assertTrue(Float.isNaN(HalfFloats.decode(dtype, dkernel[0])), "the corner tap meets padding under dy[0]");
        float[] dbias = new float[3];
        CpuBackend.instance().biasGradient(25, 3, dtype, cotangent, dbias);
        assertTrue(dbias[0] == Float.POSITIVE_INFINITY, "dbias[0] sums the infinity: " + dbias[0]);
    }

    static Stream<Arguments> folds() {
        return Stream.of(
                // A CIRCULAR ConvTranspose's wrap-around fold, its period shifted, with the whole epilogue.
                Arguments.of(new EdgePadding(2, 3, new int[] {4, 5}, new int[] {11, 9}, new int[] {-3, 2},
                        EdgeMode.WRAP), DType.FLOAT16, true, true, true),
                Arguments.of(new EdgePadding(1, 4, new int[] {3, 4}, new int[] {8, 10}, new int[] {-1, -4},
                        EdgeMode.WRAP), DType.BFLOAT16, true, false, true),
                // A REFLECT convolution's dx folded back onto its input.
                Arguments.of(new EdgePadding(1, 2, new int[] {6}, new int[] {10}, new int[] {2}, EdgeMode.MIRROR),
                        DType.BFLOAT16, false, false, false),
                Arguments.of(new EdgePadding(2, 3, new int[] {5, 4}, new int[] {9, 6}, new int[] {2, 1},
                        EdgeMode.MIRROR), DType.FLOAT16, false, true, false),
                // Many padded positions (up to 6 x 7) copying each source position.
                Arguments.of(new EdgePadding(1, 3, new int[] {3, 2}, new int[] {17, 13}, new int[] {-5, 1},
                        EdgeMode.WRAP), DType.FLOAT16, true, true, true),
                Arguments.of(new EdgePadding(2, 2, new int[] {4}, new int[] {41}, new int[] {-3}, EdgeMode.WRAP),
                        DType.BFLOAT16, false, false, false),
                // Several slices per batch entry (340 source positions).
                Arguments.of(new EdgePadding(2, 5, new int[] {20, 17}, new int[] {23, 20}, new int[] {1, 2},
                        EdgeMode.WRAP), DType.BFLOAT16, true, true, true));
    }

    /**
     * The 16-bit fold, summing as it decodes, is the whole-array form it replaced bit for bit: the float32 fold on
     * the decoded padded array, bias and residual, with the epilogue (leaky ReLU, scale and shift float32), rounded
     * once.
     */
    @ParameterizedTest(name = "{0} in {1}")
    @MethodSource("folds")
    void theFoldIsTheFloat32FoldOnTheDecodedOperandsRounded(EdgePadding padding, DType dtype, boolean withBias,
            boolean withEpilogue, boolean withResidual) {
        SplittableRandom random = new SplittableRandom(padding.channels() * 31L + dtype.ordinal());
        int channels = padding.channels();
        // Half the terms +-2^12, which cancel in many sums after the small terms' low bits were rounded away
        // beside them: the order of the terms shows in the rounded bits.
        float[] paddedValues = RandomTensors.uniform(random, padding.paddedShape()).data();
        for (int i = 0; i < paddedValues.length; i++) {
            paddedValues[i] = random.nextBoolean() ? Math.copySign(4096f, paddedValues[i]) : paddedValues[i] / 8;
        }
        short[] padded = HalfFloats.encode(dtype, paddedValues);
        short[] bias = withBias ? HalfFloats.encode(dtype, RandomTensors.uniform(random, channels).data()) : null;
        Epilogue<float[]> epilogue = withEpilogue ? new Epilogue<>(Activation.leakyRelu(0.25f),
                RandomTensors.uniform(random, channels).data(), RandomTensors.uniform(random, channels).data(), null)
                : null;
        short[] residual = withResidual
                ? HalfFloats.encode(dtype, RandomTensors.uniform(random, padding.sourceShape()).data()) : null;
        short[] source = new short[(int) Tensor.elementCount(padding.sourceShape())];
        HalfHostEdges.fold(padding, dtype, padded, bias, epilogue, residual, source);

        float[] wide = new float[source.length];
        CpuEdges.fold(padding, HalfFloats.decode(dtype, padded), bias == null ? null : HalfFloats.decode(dtype, bias),
                HalfHostEpilogue.withResidual(epilogue, residual == null ? null : HalfFloats.decode(dtype, residual)),
                wide);
        assertArrayEquals(HalfFloats.encode(dtype, wide), source,
                padding.mode() + " fold: the float32 fold on the decoded operands, rounded once");
    }

    @Test
    void refusesFloat32MixedStorageAndWrongLengths() {
        ConvGeometry g = ConvSpec.builder().build().resolve(new int[] {1, 4, 2}, new int[] {3, 2, 2});
        short[] input = new short[8];
        short[] dy = new short[8];
        short[] dk = new short[12];
        CpuBackend cpu = CpuBackend.instance();
        assertMessage(assertThrows(IllegalArgumentException.class,
                () -> cpu.kernelGradient(g, DType.FLOAT32, input, dy, dk)), "dtype: got float32");
        assertMessage(assertThrows(IllegalArgumentException.class,
                () -> cpu.kernelGradient(g.withStorage(DType.BFLOAT16), DType.FLOAT16, input, dy, dk)),
                "geometry storage bfloat16");
        assertMessage(assertThrows(IllegalArgumentException.class,
                () -> cpu.kernelGradient(g, DType.FLOAT16, input, new short[7], dk)), "outputGradient: has 7");
        assertMessage(assertThrows(IllegalArgumentException.class,
                () -> cpu.biasGradient(4, 2, DType.FLOAT16, dy, new float[3])), "biasGradient: has 3");
        assertMessage(assertThrows(IllegalArgumentException.class,
                () -> cpu.biasGradient(-1, 2, DType.FLOAT16, dy, new float[2])), "rows: got -1");
    }

    private static void assertMessage(IllegalArgumentException e, String part) {
        assertTrue(e.getMessage().contains(part), e.getMessage());
    }
}
