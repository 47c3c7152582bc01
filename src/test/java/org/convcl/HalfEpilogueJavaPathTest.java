package org.convcl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import org.convcl.backend.ConvBackend;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.testing.RandomTensors;
import org.junit.jupiter.api.Test;

/**
 * The epilogue fused in the Java path's 16-bit host forward (issue 26): float32 scale and shift, a residual in the
 * output's type, the epilogue in float32 on the float32 sum and one rounding. Its definition is the float32 forward
 * on the decoded operands followed by the float32 epilogue with the decoded residual, rounded once; the Java path
 * gives those bits exactly where both run the same kernels in the same order (the 1x1 tiles, and row kernels on
 * shapes Winograd does not take), on every core and on one thread. Also: the whole-array route of a non-finite
 * kernel, and the refusals.
 */
class HalfEpilogueJavaPathTest {

    /** {x shape, kernel shape, strides, padding}: 1x1 (the tiles), 1x1 strided, 5x5 SAME and 3x3 stride 2 (rows). */
    private static final Object[][] SHAPES = {
        {new int[] {2, 6, 5, 24}, new int[] {1, 1, 24, 20}, 1, Padding.VALID},
        {new int[] {2, 7, 7, 8}, new int[] {1, 1, 8, 12}, 2, Padding.VALID},
        {new int[] {2, 9, 8, 5}, new int[] {5, 5, 5, 7}, 1, Padding.SAME},
        {new int[] {1, 9, 9, 6}, new int[] {3, 3, 6, 4}, 2, Padding.SAME},
    };

    @Test
    void fusedIsTheFloat32CompositionRoundedOnce() {
        SplittableRandom random = new SplittableRandom(2661);
        List<Activation> activations = List.of(Activation.relu(), Activation.leakyRelu(0.1f), Activation.silu(),
                Activation.identity());
        int run = 0;
        for (Object[] shape : SHAPES) {
            Tensor x = RandomTensors.uniform(random, (int[]) shape[0]);
            Tensor w = RandomTensors.uniform(random, (int[]) shape[1]);
            ConvGeometry g = ConvSpec.builder().strides((int) shape[2]).padding((Padding) shape[3]).build()
                    .resolve(x.shape(), w.shape());
            int channels = g.outChannels();
            int length = (int) Tensor.elementCount(g.outputShape());
            for (DType dtype : List.of(DType.FLOAT16, DType.BFLOAT16)) {
                run++;
                short[] input = HalfFloats.encode(dtype, x.data());
                short[] kernel = HalfFloats.encode(dtype, w.data());
                short[] bias = run % 2 == 0 ? null : HalfFloats.encode(dtype, RandomTensors.uniform(random,
                        channels).data());
                float[] scale = run % 3 == 0 ? null : RandomTensors.uniform(random, channels).data();
                float[] shift = RandomTensors.uniform(random, channels).data();
                short[] residual = run % 4 == 1 ? null : HalfFloats.encode(dtype, RandomTensors.uniform(random,
                        length).data());
                Epilogue<float[]> epilogue = new Epilogue<>(activations.get(run % activations.size()), scale, shift,
                        null);

                float[] wide = new float[length];
                Epilogue<float[]> wideEpilogue = new Epilogue<>(epilogue.activation(), scale, shift,
                        residual == null ? null : HalfFloats.decode(dtype, residual));
                CpuBackend.instance().forward(g, HalfFloats.decode(dtype, input), HalfFloats.decode(dtype, kernel),
                        bias == null ? null : HalfFloats.decode(dtype, bias), wideEpilogue, wide);
                short[] expected = HalfFloats.encode(dtype, wide);
                String what = dtype.cliName() + " " + epilogue + " on " + g;
                for (ConvBackend backend : List.of(CpuBackend.instance(), CpuBackend.sequential())) {
                    short[] got = new short[length];
                    backend.forward(g, dtype, input, kernel, bias, epilogue, residual, got);
                    assertArrayEquals(expected, got, backend.name() + ": " + what);
                }
            }
        }
    }

    /** A plain call through the epilogue form (no epilogue, no residual) is the plain 16-bit forward. */
    @Test
    void noEpilogueIsThePlainForward() {
        SplittableRandom random = new SplittableRandom(7);
        Tensor x = RandomTensors.uniform(random, 1, 6, 6, 3);
        Tensor w = RandomTensors.uniform(random, 3, 3, 3, 4);
        ConvGeometry g = ConvSpec.builder().padding(Padding.SAME).build().resolve(x.shape(), w.shape());
        DType dtype = DType.BFLOAT16;
        short[] input = HalfFloats.encode(dtype, x.data());
        short[] kernel = HalfFloats.encode(dtype, w.data());
        short[] plain = new short[(int) Tensor.elementCount(g.outputShape())];
        CpuBackend.instance().forward(g, dtype, input, kernel, null, plain);
        short[] viaNone = new short[plain.length];
        CpuBackend.instance().forward(g, dtype, input, kernel, null, Epilogue.none(), null, viaNone);
        assertArrayEquals(plain, viaNone);
    }

    /** A kernel with an infinite weight takes the whole-array route, epilogue included: the same composition. */
    @Test
    void nonFiniteKernelTakesTheDecodedRouteWithItsEpilogue() {
        SplittableRandom random = new SplittableRandom(11);
        Tensor x = RandomTensors.uniform(random, 1, 6, 6, 3);
        float[] w = RandomTensors.uniform(random, 3, 3, 3, 4).data();
        w[5] = Float.POSITIVE_INFINITY;
        ConvGeometry g = ConvSpec.builder().padding(Padding.SAME).build().resolve(x.shape(), new int[] {3, 3, 3, 4});
        DType dtype = DType.FLOAT16;
        int length = (int) Tensor.elementCount(g.outputShape());
        short[] input = HalfFloats.encode(dtype, x.data());
        short[] kernel = HalfFloats.encode(dtype, w);
        short[] residual = HalfFloats.encode(dtype, RandomTensors.uniform(random, length).data());
        Epilogue<float[]> epilogue = new Epilogue<>(Activation.relu(), null, RandomTensors.uniform(random, 4).data(),
                null);
        short[] got = new short[length];
        CpuBackend.instance().forward(g, dtype, input, kernel, null, epilogue, residual, got);
        float[] wide = new float[length];
        CpuBackend.instance().forward(g, HalfFloats.decode(dtype, input), HalfFloats.decode(dtype, kernel), null,
                epilogue.withResidual(HalfFloats.decode(dtype, residual)), wide);
        assertArrayEquals(HalfFloats.encode(dtype, wide), got);
    }

    @Test
    void refusesAFloat32ResidualAndMisfitParts() {
        ConvGeometry g = ConvSpec.builder().build().resolve(new int[] {1, 4, 2}, new int[] {3, 2, 2});
        short[] input = new short[8];
        short[] kernel = new short[12];
        short[] output = new short[8];
        ConvBackend cpu = CpuBackend.instance();
        Epilogue<float[]> floatResidual = new Epilogue<>(Activation.relu(), null, null, new float[8]);
        assertMessage(assertThrows(IllegalArgumentException.class,
                () -> cpu.forward(g, DType.FLOAT16, input, kernel, null, floatResidual, null, output)),
                "epilogue residual: a float[] of 8 elements with float16 operands");
        assertMessage(assertThrows(IllegalArgumentException.class,
                () -> cpu.forward(g, DType.FLOAT16, input, kernel, null, null, new short[5], output)),
                "residual: has 5 elements but the output has 8");
        Epilogue<float[]> shortScale = new Epilogue<>(Activation.relu(), new float[3], null, null);
        assertMessage(assertThrows(IllegalArgumentException.class,
                () -> cpu.forward(g, DType.BFLOAT16, input, kernel, null, shortScale, null, output)),
                "scale: has 3 values but the output has 2 channels");
    }

    private static void assertMessage(IllegalArgumentException e, String part) {
        assertTrue(e.getMessage().contains(part), e.getMessage());
    }
}
