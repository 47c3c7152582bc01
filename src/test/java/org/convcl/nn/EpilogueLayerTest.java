package org.convcl.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Random;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.convcl.Activation;
import org.convcl.Layout;
import org.convcl.Tensor;
import org.convcl.backend.ConvBackend;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.testing.NaiveConv;
import org.convcl.testing.NaiveEpilogue;
import org.convcl.testing.OpenClTesting;
import org.convcl.testing.Tolerance;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The epilogue on {@link Conv} and {@link ConvTranspose} ({@code act(conv(x) * scale + shift + residual)}) on random
 * layers of rank 1-3 with batch dims, both layouts, every activation, with and without bias, scale, shift and
 * residual, CIRCULAR transposes among them: the output against the float64 references ({@link NaiveConv},
 * {@code ConvTransposeReference}, {@link NaiveEpilogue}), the fused output against the layer without an epilogue
 * followed by the epilogue's steps in float32, and the gradients against the chain rule over float64 references.
 * On the Java path, and on OpenCL when a device is present (which needs the OpenCL epilogue kernels).
 */
class EpilogueLayerTest {
    private static final Activation[] ACTIVATIONS = Stream.of(Activation.Kind.values()).map(Activation::of)
            .toArray(Activation[]::new);
    private static final int CASES = 2 * ACTIVATIONS.length;

    /** The Java path, and OpenCL's shared backend when there is a device (shared: never closed by the tests). */
    static Stream<ConvBackend> backends() {
        Stream<ConvBackend> openCl = OpenClTesting.deviceIfAny().stream().map(Backends::openClBackend);
        return Stream.concat(Stream.of(CpuBackend.instance()), openCl);
    }

    /**
     * The first {@code ACTIVATIONS.length} seeds (every activation, both layouts) on every backend: on OpenCL each case
     * compiles programs of its own, and a CPU driver takes about a second for each; the Java path's other seeds run
     * under {@code mvn -o -B test -Pexhaustive} ({@link #otherCases}), to keep CI within its time.
     */
    static Stream<Arguments> cases() {
        return backends().flatMap(backend -> IntStream.range(0, ACTIVATIONS.length).boxed().flatMap(seed -> Stream.of(
                Arguments.of(backend, seed, false), Arguments.of(backend, seed, true))));
    }

    /**
     * {@link #cases} for the gradients: on the Java path all of them; on OpenCL, where each gradient case compiles
     * the most programs, each activation once, through Conv for the even seeds and ConvTranspose for the odd ones
     * (the forward tests above take both for every activation); the other half under {@code -Pexhaustive}
     * ({@link #otherGradientCases}).
     */
    static Stream<Arguments> gradientCases() {
        return cases().filter(EpilogueLayerTest::gradientCaseInCi);
    }

    /** The gradient cases {@link #gradientCases} leaves out, with {@link #otherCases}. */
    static Stream<Arguments> otherGradientCases() {
        return Stream.concat(cases().filter(arguments -> !gradientCaseInCi(arguments)), otherCases());
    }

    private static boolean gradientCaseInCi(Arguments arguments) {
        Object[] values = arguments.get();
        int seed = (Integer) values[1];
        boolean transpose = (Boolean) values[2];
        return values[0] instanceof CpuBackend || transpose == (seed % 2 == 1);
    }

    /** The Java path's seeds that CI leaves to {@code mvn -o -B test -Pexhaustive}. */
    static Stream<Arguments> otherCases() {
        return IntStream.range(ACTIVATIONS.length, CASES).boxed().flatMap(seed -> Stream.of(
                Arguments.of(CpuBackend.instance(), seed, false), Arguments.of(CpuBackend.instance(), seed, true)));
    }

    private static EpilogueFixture fixture(int seed, boolean transpose) {
        Random random = new Random(9100 + seed * 2L + (transpose ? 1 : 0));
        Layout layout = seed % 4 < 2 ? Layout.CHANNELS_LAST : Layout.CHANNELS_FIRST;
        return new EpilogueFixture(random, ACTIVATIONS[seed % ACTIVATIONS.length], transpose, layout);
    }

    @ParameterizedTest(name = "{0} seed {1} transpose {2}", autoCloseArguments = false)
    @MethodSource("cases")
    void outputMatchesFloat64Reference(ConvBackend backend, int seed, boolean transpose) {
        checkOutputMatchesFloat64Reference(backend, seed, transpose);
    }

    @Tag("exhaustive")
    @ParameterizedTest(name = "{0} seed {1} transpose {2}", autoCloseArguments = false)
    @MethodSource("otherCases")
    void outputMatchesFloat64ReferenceOnTheOtherSeeds(ConvBackend backend, int seed, boolean transpose) {
        checkOutputMatchesFloat64Reference(backend, seed, transpose);
    }

    private static void checkOutputMatchesFloat64Reference(ConvBackend backend, int seed, boolean transpose) {
        EpilogueFixture f = fixture(seed, transpose);
        NaiveConv.Result conv = f.referenceConv();
        double[] expected = NaiveEpilogue.apply(f.activation, conv.values(), f.channels, f.scale, f.shift,
                f.residual, null);
        double[] scale = NaiveEpilogue.errorScale(f.activation, conv.values(), conv.absSums(), f.channels, f.scale,
                f.shift, f.residual);
        try (EpilogueFixture.Layer layer = f.layer(backend, true)) {
            Tensor y = layer.apply(f.userX(), f.userResidual());
            assertArrayEquals(f.activations(new float[expected.length], f.yShape).shape(), y.shape(),
                    f + ": shape");
            float[] channelsLast = toFloat(f.activationsToChannelsLast(y));
            Tolerance.assertClose(f.toString(), conv.shape(), expected, scale, f.yShape, channelsLast);
        }
    }

    /**
     * The fused store equals the unfused composition: the same layer without an epilogue, then
     * {@code ((y * scale) + shift) + residual} and the activation, each in float32, to float32 rounding (the
     * convolutions may round differently only by the order of their sums, which is the same here).
     */
    @ParameterizedTest(name = "{0} seed {1} transpose {2}", autoCloseArguments = false)
    @MethodSource("cases")
    void fusedEqualsUnfusedComposition(ConvBackend backend, int seed, boolean transpose) {
        checkFusedEqualsUnfusedComposition(backend, seed, transpose);
    }

    @Tag("exhaustive")
    @ParameterizedTest(name = "{0} seed {1} transpose {2}", autoCloseArguments = false)
    @MethodSource("otherCases")
    void fusedEqualsUnfusedCompositionOnTheOtherSeeds(ConvBackend backend, int seed, boolean transpose) {
        checkFusedEqualsUnfusedComposition(backend, seed, transpose);
    }

    private static void checkFusedEqualsUnfusedComposition(ConvBackend backend, int seed, boolean transpose) {
        EpilogueFixture f = fixture(seed, transpose);
        float[] fused;
        float[] plain;
        try (EpilogueFixture.Layer with = f.layer(backend, true); EpilogueFixture.Layer without =
                f.layer(backend, false)) {
            fused = toFloat(f.activationsToChannelsLast(with.apply(f.userX(), f.userResidual())));
            plain = toFloat(f.activationsToChannelsLast(without.apply(f.userX(), null)));
        }
        double slope = NaiveEpilogue.slopeBound(f.activation);
        for (int i = 0; i < plain.length; i++) {
            int c = i % f.channels;
            float v = plain[i];
            float operands = Math.abs(v);
            if (f.scale != null) {
                v *= f.scale[c];
                operands = Math.abs(v);
            }
            if (f.shift != null) {
                v += f.shift[c];
                operands += Math.abs(f.shift[c]);
            }
            if (f.residual != null) {
                v += f.residual[i];
                operands += Math.abs(f.residual[i]);
            }
            float unfused = f.activation.apply(v);
            // A different rounding of the convolution's sum or a contracted multiply-add moves the pre-activation
            // by a few units in the last place of its operands, and the activation by its slope times that.
            double bound = 4 * slope * Math.ulp(operands) + 4 * Math.ulp(Math.abs(unfused));
            if (!(Math.abs(fused[i] - unfused) <= bound) && !(Float.isNaN(fused[i]) && Float.isNaN(unfused))) {
                fail(f + ": element " + i + " fused " + fused[i] + ", unfused " + unfused + " (bound " + bound + ")");
            }
        }
    }

    @ParameterizedTest(name = "{0} seed {1} transpose {2}", autoCloseArguments = false)
    @MethodSource("gradientCases")
    void gradientsMatchChainRuleOverFloat64References(ConvBackend backend, int seed, boolean transpose) {
        checkGradientsMatchChainRuleOverFloat64References(backend, seed, transpose);
    }

    @Tag("exhaustive")
    @ParameterizedTest(name = "{0} seed {1} transpose {2}", autoCloseArguments = false)
    @MethodSource("otherGradientCases")
    void gradientsMatchChainRuleOverFloat64ReferencesOnTheOtherSeeds(ConvBackend backend, int seed, boolean transpose) {
        checkGradientsMatchChainRuleOverFloat64References(backend, seed, transpose);
    }

    private static void checkGradientsMatchChainRuleOverFloat64References(ConvBackend backend, int seed, boolean transpose) {
        EpilogueFixture f = fixture(seed, transpose);
        EpilogueGradients expected = EpilogueGradients.of(f);
        ConvGradients got;
        try (EpilogueFixture.Layer layer = f.layer(backend, true)) {
            got = layer.backward(f.userX(), f.userResidual(), f.userDy());
        }
        String what = f.toString();
        assertArrayEquals(f.userX().shape(), got.dx().shape(), what + ": dx shape");
        expected.assertInput(what, toFloat(f.activationsToChannelsLast(got.dx())));
        expected.assertKernel(what, toFloat(f.kernelToChannelsLast(got.dkernel())));
        expected.assertPerChannel(what + " dbias", f.bias != null, expected.dbias(), expected.dbiasScale(),
                got.dbias());
        expected.assertPerChannel(what + " dscale", f.scale != null, expected.dscale(), expected.dscaleScale(),
                got.dscale());
        expected.assertPerChannel(what + " dshift", f.shift != null, expected.dshift(), expected.dshiftScale(),
                got.dshift());
        if (f.residual == null) {
            assertNull(got.dresidual(), what + ": no residual, no residual gradient");
        } else {
            assertArrayEquals(f.userResidual().shape(), got.dresidual().shape(), what + ": dresidual shape");
            Tolerance.assertClose(what + " dresidual", f.yShape, expected.dz(), expected.dzScale(), f.yShape,
                    toFloat(f.activationsToChannelsLast(got.dresidual())));
        }
    }

    static float[] toFloat(double[] values) {
        float[] result = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            result[i] = (float) values[i];
        }
        return result;
    }
}
