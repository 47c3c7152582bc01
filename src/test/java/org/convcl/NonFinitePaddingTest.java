package org.convcl;

import org.convcl.nn.ConvGradients;
import org.convcl.nn.Conv;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.convcl.nn.Backends;
import org.convcl.backend.ConvBackend;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.opencl.DeviceTensor;
import org.convcl.opencl.OpenClBackend;
import org.convcl.opencl.device.OpenClDevice;
import org.convcl.opencl.internal.plan.ConvPlan;
import org.convcl.opencl.internal.plan.KernelConfig;
import org.convcl.testing.NaiveConv;
import org.convcl.testing.NaiveGradients;
import org.convcl.testing.OpenClTesting;
import org.convcl.testing.RandomTensors;
import org.convcl.testing.Reference;
import org.convcl.testing.Tolerance;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Implicit zeros are multiplied as IEEE arithmetic says, on both backends: padding and input dilation are zeros
 * inserted into the operand (jax's {@code lax.pad}), so a non-finite weight that meets one gives
 * {@code 0 * Inf = NaN} in the output and, through the flipped kernel meeting dy's padding and stride holes, in
 * dx; a non-finite output gradient meeting one gives NaN in dkernel. Checked against float64 references that
 * materialise those zeros ({@link NaiveConv}, {@link NaiveGradients}), per padding mode, with input dilation and
 * strides, in 1 to 3 spatial dims, at row and column edges, and over the CPU kernels' special cases (depthwise,
 * wide channel blocks, Winograd shapes, RGB-stem patches).
 *
 * <p>Also signed zeros: every sum starts at +0 as XLA's do, so an all -0.0 input with bias -0.0 gives +0.0,
 * and so do gradients whose products are all -0.0.
 */
class NonFinitePaddingTest {
    private static final float[] SPECIAL = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};
    private static final int SEEDS = 3;

    /** One layer geometry: shapes, and the spec's per-dim settings. */
    record Case(String name, int[] xShape, int[] kShape, int[] strides, int[] inputDilation, int[] kernelDilation,
            Padding padding, int groups) {
        ConvSpec spec() {
            return ConvSpec.builder().strides(strides).inputDilation(inputDilation).kernelDilation(kernelDilation)
                    .padding(padding).groups(groups).build();
        }

        @Override
        public String toString() {
            return name;
        }
    }

    private static Case of(String name, int[] x, int[] k, int[] strides, int[] inputDilation, int[] kernelDilation,
            Padding padding, int groups) {
        return new Case(name, x, k, strides, inputDilation, kernelDilation, padding, groups);
    }

    private static int[] s(int... values) {
        return values;
    }

    static List<Case> cases() {
        return List.of(
                of("1-d SAME", s(2, 7, 3), s(3, 3, 4), s(1), s(1), s(1), Padding.SAME, 1),
                of("1-d CAUSAL dilated kernel", s(1, 6, 2), s(3, 2, 3), s(1), s(1), s(2), Padding.CAUSAL, 1),
                of("1-d input dilation 3, pads (2, 1)", s(1, 5, 2), s(2, 2, 2), s(1), s(3), s(1),
                        Padding.pairs(s(2, 1)), 1),
                of("2-d SAME rows and columns", s(1, 6, 5, 3), s(3, 3, 3, 5), s(1), s(1), s(1), Padding.SAME, 1),
                of("2-d SAME stride 2", s(2, 7, 6, 2), s(3, 3, 2, 3), s(2), s(1), s(1), Padding.SAME, 1),
                of("2-d pads (2, -1), (-1, 2)", s(1, 6, 7, 2), s(3, 2, 2, 3), s(1), s(1), s(1),
                        Padding.pairs(s(2, -1), s(-1, 2)), 1),
                of("2-d input dilation 2, pads 1", s(1, 4, 3, 2), s(3, 3, 2, 2), s(1), s(2), s(1), Padding.of(1), 1),
                of("2-d CIRCULAR stride 2", s(1, 5, 6, 2), s(3, 3, 2, 2), s(2), s(1), s(1), Padding.CIRCULAR, 1),
                of("2-d REFLECT", s(1, 5, 4, 3), s(3, 2, 3, 2), s(1), s(1), s(1), Padding.REFLECT, 1),
                of("2-d grouped SAME", s(1, 6, 5, 4), s(3, 3, 2, 6), s(1), s(1), s(1), Padding.SAME, 2),
                of("2-d depthwise SAME", s(1, 6, 6, 8), s(3, 3, 1, 8), s(1), s(1), s(1), Padding.SAME, 8),
                of("2-d wide channels SAME", s(1, 8, 8, 8), s(3, 3, 8, 32), s(1), s(1), s(1), Padding.SAME, 1),
                of("2-d wide channels SAME stride 2", s(1, 9, 9, 8), s(3, 3, 8, 16), s(2), s(1), s(1),
                        Padding.SAME, 1),
                of("2-d RGB stem SAME", s(1, 8, 8, 3), s(3, 3, 3, 16), s(1), s(1), s(1), Padding.SAME, 1),
                of("3-d input dilation, pads", s(1, 3, 4, 3, 2), s(2, 3, 2, 2, 3), s(1), s(1, 2, 1), s(1),
                        Padding.pairs(s(1, 0), s(1, 1), s(0, 1)), 1),
                of("3-d VALID strides", s(1, 5, 4, 5, 2), s(2, 2, 3, 2, 2), s(2, 1, 2), s(1), s(1), Padding.VALID, 1),
                of("4-d SAME stride 2", s(1, 3, 2, 3, 2, 2), s(2, 1, 2, 2, 2, 3), s(2, 1, 1, 2), s(1), s(1),
                        Padding.SAME, 1));
    }

    /** The Java path, and OpenCL's shared backend when there is a device (shared: never closed by the tests). */
    static Stream<ConvBackend> backends() {
        Stream<ConvBackend> openCl = OpenClTesting.deviceIfAny().stream().map(Backends::openClBackend);
        return Stream.concat(Stream.of(CpuBackend.instance()), openCl);
    }

    /**
     * The cases OpenCL runs: one per distinct kernel path (GEMM with padding, phased GEMM forward and dx, the edge
     * fold, depthwise, 3-d phases, the any-rank kernel at rank 4). Each geometry costs OpenCL a compilation of
     * seconds, and the other cases differ only in the Java path's kernels.
     */
    private static final Set<String> OPENCL_CASES = Set.of("2-d SAME rows and columns", "2-d SAME stride 2",
            "2-d input dilation 2, pads 1", "2-d CIRCULAR stride 2", "2-d depthwise SAME", "3-d input dilation, pads",
            "4-d SAME stride 2");
    /** The cases OpenCL's any-rank kernel runs beside its default plans: padding, and input dilation in 2 and 3 dims. */
    private static final Set<String> GENERAL_CASES = Set.of("1-d SAME", "2-d input dilation 2, pads 1",
            "3-d input dilation, pads");

    static Stream<Arguments> backendsAndCases() {
        return backends().flatMap(backend -> cases().stream()
                .filter(c -> backend instanceof CpuBackend || OPENCL_CASES.contains(c.name()))
                .map(c -> Arguments.of(backend, c)));
    }

    static Stream<Case> generalCases() {
        return cases().stream().filter(c -> GENERAL_CASES.contains(c.name()));
    }

    @ParameterizedTest(name = "{0} {1}", autoCloseArguments = false)
    @MethodSource("backendsAndCases")
    void nonFiniteWeightsMeetImplicitZerosAsIeeeSays(ConvBackend backend, Case c) {
        Assertions.assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            int nan = 0;
            for (int seed = 0; seed < SEEDS; seed++) {
                SplittableRandom random = new SplittableRandom(seed * 31 + c.name().hashCode());
                Tensor x = RandomTensors.uniform(random, c.xShape());
                Tensor kernel = RandomTensors.uniform(random, c.kShape());
                // The first weight (a corner tap, which meets padding first) and one at random.
                kernel.data()[seed == 0 ? 0 : random.nextInt(kernel.size())] = SPECIAL[seed % SPECIAL.length];
                kernel.data()[random.nextInt(kernel.size())] = SPECIAL[random.nextInt(SPECIAL.length)];
                nan += check(backend, c, x, kernel, random);
            }
            assertTrue(nan > 0, "a non-finite weight reaches some output or gradient");
        });
    }

    @ParameterizedTest(name = "{0} {1}", autoCloseArguments = false)
    @MethodSource("backendsAndCases")
    void nonFiniteOutputGradientsMeetImplicitZerosAsIeeeSays(ConvBackend backend, Case c) {
        Assertions.assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            int nan = 0;
            for (int seed = 0; seed < SEEDS; seed++) {
                SplittableRandom random = new SplittableRandom(seed * 37 + c.name().hashCode());
                Tensor x = RandomTensors.uniform(random, c.xShape());
                Tensor kernel = RandomTensors.uniform(random, c.kShape());
                nan += check(backend, c, x, kernel, random, seed);
            }
            // Seed 0 puts NaN in dy itself: the gradients must carry it.
            assertTrue(nan > 0, "a non-finite output gradient reaches some gradient");
        });
    }

    /**
     * OpenCL's any-rank kernel (the fallback of every plan, and rank 4 and up), which the default plans of ranks
     * 1 to 3 do not reach: its forward pass over each case, with a non-finite weight at a corner tap.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("generalCases")
    void theAnyRankOpenClKernelMultipliesImplicitZerosToo(Case c) {
        Optional<OpenClDevice> device = OpenClTesting.deviceIfAny();
        assumeTrue(device.isPresent(), "no OpenCL device");
        OpenClBackend backend = Backends.openClBackend(device.get());
        Assertions.assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            SplittableRandom random = new SplittableRandom(c.name().hashCode());
            Tensor x = RandomTensors.uniform(random, c.xShape());
            Tensor kernel = RandomTensors.uniform(random, c.kShape());
            kernel.data()[0] = Float.POSITIVE_INFINITY;
            Tensor bias = RandomTensors.uniform(random, c.kShape()[c.kShape().length - 1]);
            ConvGeometry g = c.spec().resolve(c.xShape(), c.kShape());
            ConvPlan plan = backend.plan(g, true, new KernelConfig.General(32));
            float[] y;
            try (DeviceTensor dx = backend.upload(x);
                    DeviceTensor dk = backend.upload(kernel);
                    DeviceTensor db = backend.upload(bias);
                    DeviceTensor out = backend.allocate(g.outputShape())) {
                backend.forward(plan, g, dx, dk, db, out);
                y = out.download().data();
            }
            NaiveConv.Result forward = Reference.forward(Tolerance.toDouble(x.data()), x.shape(),
                    Tolerance.toDouble(kernel.data()), kernel.shape(), Tolerance.toDouble(bias.data()), c.strides(),
                    c.inputDilation(), c.kernelDilation(), c.padding(), c.groups());
            int nan = compare(backend.name() + " general kernel " + c + " y", forward.values(), forward.absSums(), y);
            // Each case pads before its first tap: the infinite corner weight meets an implicit zero there.
            assertTrue(nan > 0, "the infinite corner weight meets padding: the reference has NaN");
        });
    }

    /** Forward and both gradients with finite dy; returns how many values were NaN. */
    private static int check(ConvBackend backend, Case c, Tensor x, Tensor kernel, SplittableRandom random) {
        return check(backend, c, x, kernel, random, -1);
    }

    /**
     * Runs the layer's forward and backward passes and compares them with the references. With
     * {@code dySeed >= 0}, dy gets non-finite values: its first element (an output corner, which reads padding
     * first) and one at random.
     */
    private static int check(ConvBackend backend, Case c, Tensor x, Tensor kernel, SplittableRandom random,
            int dySeed) {
        Tensor bias = RandomTensors.uniform(random, c.kShape()[c.kShape().length - 1]);
        try (Conv layer = Conv.builder(kernel).bias(bias).spec(c.spec()).backend(backend).build()) {
            Tensor y = layer.apply(x);
            Tensor dy = RandomTensors.uniform(random, y.shape());
            if (dySeed >= 0) {
                dy.data()[dySeed == 0 ? 0 : random.nextInt(dy.size())] = SPECIAL[dySeed % SPECIAL.length];
                dy.data()[random.nextInt(dy.size())] = SPECIAL[random.nextInt(SPECIAL.length)];
            }
            ConvGradients grads = layer.backward(x, dy);
            double[] xd = Tolerance.toDouble(x.data());
            double[] kd = Tolerance.toDouble(kernel.data());
            NaiveConv.Result forward = Reference.forward(xd, x.shape(), kd, kernel.shape(),
                    Tolerance.toDouble(bias.data()), c.strides(), c.inputDilation(), c.kernelDilation(), c.padding(),
                    c.groups());
            assertArrayEquals(forward.shape(), y.shape(), c + ": output shape");
            NaiveGradients.Result gradients = NaiveGradients.of(xd, x.shape(), kd, kernel.shape(),
                    Tolerance.toDouble(dy.data()), c.strides(), c.inputDilation(), c.kernelDilation(), c.padding(),
                    c.groups());
            String what = backend.name() + " " + c;
            double[] dbias = new double[bias.size()];
            double[] dbiasAbs = new double[bias.size()];
            for (int i = 0; i < dy.size(); i++) {
                dbias[i % dbias.length] += dy.data()[i];
                dbiasAbs[i % dbias.length] += Math.abs(dy.data()[i]);
            }
            return compare(what + " y", forward.values(), forward.absSums(), y.data())
                    + compare(what + " dx", gradients.dx(), gradients.dxAbs(), grads.dx().data())
                    + compare(what + " dkernel", gradients.dk(), gradients.dkAbs(), grads.dkernel().data())
                    + compare(what + " dbias", dbias, dbiasAbs, grads.dbias().data());
        }
    }

    /** NaN where the reference is NaN, the same infinity, close elsewhere; returns the NaN count. */
    private static int compare(String what, double[] expected, double[] absSums, float[] actual) {
        if (expected.length != actual.length) {
            fail(what + ": " + actual.length + " elements, the reference has " + expected.length);
        }
        int nan = 0;
        for (int i = 0; i < expected.length; i++) {
            double e = expected[i];
            float a = actual[i];
            boolean same = Double.isNaN(e) ? Float.isNaN(a)
                    : Double.isInfinite(e) ? a == e
                    : Math.abs(a - e) <= Tolerance.RELATIVE * absSums[i] + 1e-30;
            if (!same) {
                fail(what + ": element " + i + " is " + a + ", the reference gives " + e);
            }
            nan += Double.isNaN(e) ? 1 : 0;
        }
        return nan;
    }

    @ParameterizedTest(name = "{0} {1}", autoCloseArguments = false)
    @MethodSource("backendsAndCases")
    void sumsStartAtPositiveZero(ConvBackend backend, Case c) {
        Assertions.assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            SplittableRandom random = new SplittableRandom(c.name().hashCode());
            // Positive weights and dy: every product with a -0.0 operand is -0.0, and only a sum that starts
            // at +0 (or a bias of -0.0 added to one) comes out +0.0.
            Tensor kernel = positive(random, c.kShape());
            Tensor bias = filled(-0f, c.kShape()[c.kShape().length - 1]);
            Tensor x = filled(-0f, c.xShape());
            try (Conv layer = Conv.builder(kernel).bias(bias).spec(c.spec()).backend(backend).build()) {
                Tensor y = layer.apply(x);
                assertPositiveZeros(backend.name() + " " + c + " y", y.data());
                ConvGradients grads = layer.backward(x, positive(random, y.shape()));
                assertPositiveZeros(backend.name() + " " + c + " dkernel", grads.dkernel().data());
                grads = layer.backward(x, filled(-0f, y.shape()));
                assertPositiveZeros(backend.name() + " " + c + " dx", grads.dx().data());
                assertPositiveZeros(backend.name() + " " + c + " dbias", grads.dbias().data());
            }
        });
    }

    private static void assertPositiveZeros(String what, float[] values) {
        for (int i = 0; i < values.length; i++) {
            if (Float.floatToRawIntBits(values[i]) != 0) {
                fail(what + ": element " + i + " is " + values[i] + ", expected +0.0 (a sum starting at +0)");
            }
        }
    }

    private static Tensor positive(SplittableRandom random, int... shape) {
        Tensor t = RandomTensors.uniform(random, shape);
        for (int i = 0; i < t.size(); i++) {
            t.data()[i] = 0.25f + Math.abs(t.data()[i]);
        }
        return t;
    }

    private static Tensor filled(float value, int... shape) {
        float[] values = new float[(int) Tensor.elementCount(shape)];
        java.util.Arrays.fill(values, value);
        return Tensor.of(values, shape);
    }
}
