package org.convcl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.convcl.backend.ConvBackend;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.testing.ConvTransposeReference;
import org.convcl.testing.GoldenCase;
import org.convcl.testing.HalfBound;
import org.convcl.testing.HalfGolden;
import org.convcl.testing.NaiveConv;
import org.convcl.testing.RandomTensors;
import org.convcl.testing.Tolerance;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The Java path's forward on float16 and bfloat16 host bits (issue 26): every computed golden conv case in both
 * types, on every core and on one thread, and every computed golden transposed convolution through a 16-bit
 * ConvTranspose layer, against float64 on the operands rounded to the type within {@code HalfBound}'s bound; the rare calls that take whole-array copies; and the refusals of the 16-bit form.
 */
class HalfForwardJavaPathTest {

    static Stream<Arguments> cases() {
        List<Arguments> cases = new ArrayList<>();
        for (GoldenCase c : GoldenCase.ofOp("conv")) {
            if (c.error() == null) {
                cases.add(Arguments.of(c, DType.FLOAT16));
                cases.add(Arguments.of(c, DType.BFLOAT16));
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} in {1}")
    @MethodSource("cases")
    void goldenCasesWithinTheBound(GoldenCase c, DType dtype) {
        HalfGolden half = HalfGolden.of(c, dtype);
        for (ConvBackend backend : List.of(CpuBackend.instance(), CpuBackend.sequential())) {
            short[] output = half.outputBits();
            backend.forward(half.geometry(), dtype, half.inputBits(), half.kernelBits(), half.biasBits(), output);
            half.assertWithinBound(backend.name(), output);
        }
    }

    static Stream<Arguments> transposeCases() {
        return GoldenCase.ofOp("conv_transpose").stream().filter(c -> c.error() == null)
                .flatMap(c -> Stream.of(DType.FLOAT16, DType.BFLOAT16).map(dtype -> Arguments.of(c, dtype)));
    }

    /**
     * A 16-bit ConvTranspose layer on the Java path (its operands rounded, the recipe's flip, phased convolution and
     * CIRCULAR fold on 16-bit host bits, the output widened) within the bound of float64 on the rounded operands.
     */
    @ParameterizedTest(name = "{0} in {1}")
    @MethodSource("transposeCases")
    void goldenTransposesWithinTheBound(GoldenCase c, DType dtype) {
        Tensor x = HalfBound.rounded(c.array("x"), dtype);
        Tensor w = HalfBound.rounded(c.array("kernel"), dtype);
        Tensor b = c.has("bias") ? HalfBound.rounded(c.array("bias"), dtype) : null;
        ConvTransposeSpec spec = ConvTransposeReference.spec(c);
        ConvTransposeGeometry tg = spec.resolve(x.shape(), w.shape());
        Tensor got;
        try (org.convcl.nn.ConvTranspose layer = org.convcl.nn.ConvTranspose.builder(w).bias(b).spec(spec)
                .dtype(dtype).backend(CpuBackend.instance()).build()) {
            got = layer.apply(x);
        }
        NaiveConv.Result reference = ConvTransposeReference.of(c).forward(Tolerance.toDouble(x.data()),
                Tolerance.toDouble(w.data()), b == null ? null : Tolerance.toDouble(b.data()));
        assertArrayEquals(reference.shape(), got.shape(), c.name());
        HalfBound.assertWithin(c.name(), dtype, ConvTransposeReference.productsPerOutput(tg),
                tg.circularFold() != null, reference.values(), reference.absSums(), got.data());
    }

    /**
     * A long 1-d signal, cut into several tasks along its one row, with wrap-around padding and a dilated kernel, so
     * that tasks decode overlapping spans and the edge tasks spans that wrap: the 16-bit call gives the float32
     * call's bits on the decoded operands, rounded (both run the row kernels here: no Winograd for this kernel).
     */
    @Test
    void longRowsSplitIntoTasksDecodeWhatTheirWindowsRead() {
        SplittableRandom random = new SplittableRandom(26);
        Tensor x = RandomTensors.uniform(random, 3, 1500, 6);
        Tensor w = RandomTensors.uniform(random, 5, 6, 7);
        Tensor b = RandomTensors.uniform(random, 7);
        ConvSpec spec = ConvSpec.builder().padding(Padding.CIRCULAR).kernelDilation(3).build();
        ConvGeometry g = spec.resolve(x.shape(), w.shape());
        for (DType dtype : List.of(DType.FLOAT16, DType.BFLOAT16)) {
            short[] input = HalfFloats.encode(dtype, x.data());
            short[] kernel = HalfFloats.encode(dtype, w.data());
            short[] bias = HalfFloats.encode(dtype, b.data());
            short[] got = new short[(int) Tensor.elementCount(g.outputShape())];
            CpuBackend.instance().forward(g, dtype, input, kernel, bias, got);

            float[] wide = new float[got.length];
            CpuBackend.instance().forward(g, HalfFloats.decode(dtype, input), HalfFloats.decode(dtype, kernel),
                    HalfFloats.decode(dtype, bias), wide);
            assertArrayEquals(HalfFloats.encode(dtype, wide), got, dtype.cliName());
        }
    }

    /** A NaN weight over zero padding gives NaN where the float32 path does (the whole-array route). */
    @Test
    void nonFiniteWeightsPropagateAsInFloat32() {
        SplittableRandom random = new SplittableRandom(7);
        Tensor x = RandomTensors.uniform(random, 1, 6, 6, 3);
        float[] w = RandomTensors.uniform(random, 3, 3, 3, 4).data();
        w[0] = Float.POSITIVE_INFINITY;
        ConvGeometry g = ConvSpec.builder().padding(Padding.SAME).build().resolve(x.shape(), new int[] {3, 3, 3, 4});
        DType dtype = DType.FLOAT16;
        short[] got = new short[(int) Tensor.elementCount(g.outputShape())];
        CpuBackend.instance().forward(g, dtype, HalfFloats.encode(dtype, x.data()), HalfFloats.encode(dtype, w),
                null, got);
        float[] wide = new float[got.length];
        CpuBackend.instance().forward(g, HalfFloats.decode(dtype, HalfFloats.encode(dtype, x.data())),
                HalfFloats.decode(dtype, HalfFloats.encode(dtype, w)), null, wide);
        assertArrayEquals(HalfFloats.encode(dtype, wide), got);
        assertTrue(Float.isNaN(HalfFloats.decode(dtype, got[0])), "a padded corner meets the infinite weight");
    }

    @Test
    void refusesFloat32MixedStorageAndWrongLengths() {
        ConvGeometry g = ConvSpec.builder().build().resolve(new int[] {1, 4, 2}, new int[] {3, 2, 2});
        short[] input = new short[8];
        short[] kernel = new short[12];
        short[] output = new short[4];
        ConvBackend cpu = CpuBackend.instance();
        assertMessage(assertThrows(IllegalArgumentException.class,
                () -> cpu.forward(g, DType.FLOAT32, input, kernel, null, output)), "dtype: got float32");
        assertMessage(assertThrows(IllegalArgumentException.class,
                () -> cpu.forward(g.withStorage(DType.BFLOAT16), DType.FLOAT16, input, kernel, null, output)),
                "geometry storage bfloat16, input, kernel, bias and output float16");
        assertMessage(assertThrows(IllegalArgumentException.class,
                () -> cpu.forward(g, DType.FLOAT16, input, kernel, new short[3], output)), "bias: has 3 elements");
        assertMessage(assertThrows(IllegalArgumentException.class,
                () -> cpu.forward(g, DType.FLOAT16, input, new short[11], null, output)), "kernel: has 11 elements");
    }

    private static void assertMessage(IllegalArgumentException e, String part) {
        assertTrue(e.getMessage().contains(part), e.getMessage());
    }
}
