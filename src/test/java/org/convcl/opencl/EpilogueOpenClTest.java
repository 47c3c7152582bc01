package org.convcl.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.function.Function;
import org.convcl.Activation;
import org.convcl.ConvGeometry;
import org.convcl.ConvSpec;
import org.convcl.ConvTransposeGeometry;
import org.convcl.ConvTransposeSpec;
import org.convcl.Epilogue;
import org.convcl.Padding;
import org.convcl.Precision;
import org.convcl.Tensor;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.backend.internal.ConvStep;
import org.convcl.backend.internal.ForwardRecipe;
import org.convcl.backend.internal.HostEpilogue;
import org.convcl.opencl.internal.plan.ConvPlan;
import org.convcl.opencl.internal.plan.EpilogueBuffers;
import org.convcl.opencl.internal.plan.EpilogueShape;
import org.convcl.opencl.internal.plan.GemmDefaults;
import org.convcl.opencl.internal.plan.KernelConfig;
import org.convcl.opencl.internal.plan.PlanKey;
import org.convcl.opencl.internal.plan.Tiling;
import org.convcl.testing.CiShare;
import org.convcl.testing.ConvTransposeReference;
import org.convcl.testing.NaiveConv;
import org.convcl.testing.NaiveEpilogue;
import org.convcl.testing.OpenClBackendPerClass;
import org.convcl.testing.Reference;
import org.convcl.testing.Tolerance;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The epilogue in the OpenCL kernels' store: for each kernel that stores a convolution's output (the GEMM, the GEMM
 * with input-dilation phases, its emulated mma form, the depthwise and general kernels, and the fold that ends a
 * CIRCULAR ConvTranspose), the fused result against the float64 reference (NaiveEpilogue, within its error scale),
 * against the Java path's plain forward followed by HostEpilogue.apply (float32 rounding), and against the same
 * kernel's plain result followed by HostEpilogue.apply, which it must equal bit for bit where the activation has no
 * transcendental function (the store does exactly the host's float32 operations, in its order, without contraction).
 * Also NaN and infinities through the epilogue, the operand refusals, and plain plans kept apart from fused ones.
 * Every distinct epilogue shape is a program PoCL compiles, so the activations are spread over the kernels rather
 * than crossed with them.
 */
class EpilogueOpenClTest {
    @RegisterExtension
    static final OpenClBackendPerClass OPENCL = new OpenClBackendPerClass();

    /** Activations whose kernel and Java forms are the same float32 operations, so equal bit for bit. */
    private static final Set<Activation.Kind> EXACT = EnumSet.of(Activation.Kind.IDENTITY, Activation.Kind.RELU,
            Activation.Kind.RELU6, Activation.Kind.LEAKY_RELU, Activation.Kind.HARD_SWISH);

    private static final List<Activation> ALL_ACTIVATIONS = List.of(Activation.identity(), Activation.relu(),
            Activation.relu6(), Activation.leakyRelu(0.2f), Activation.elu(0.7f), Activation.gelu(false),
            Activation.gelu(true), Activation.silu(), Activation.sigmoid(), Activation.tanh(), Activation.hardSwish());

    /** Which operands an epilogue of a test has. */
    record Parts(boolean bias, boolean scale, boolean shift, boolean residual) {
        static final Parts ALL = new Parts(true, true, true, true);

        @Override
        public String toString() {
            return (bias ? "bias " : "") + (scale ? "scale " : "") + (shift ? "shift " : "")
                    + (residual ? "residual" : "");
        }
    }

    /** The data of one run: operands, and the epilogue's host operands (each null when absent). */
    record Data(float[] x, float[] w, float[] bias, float[] scale, float[] shift, float[] residual) {
        Epilogue<float[]> epilogue(Activation activation) {
            return new Epilogue<>(activation, scale, shift, residual);
        }
    }

    /** A convolution run through one kernel: the fused and plain device results and the references. */
    interface Case {
        String name();

        int channels();

        int[] inputShape();

        int[] kernelShape();

        int[] outputShape();

        /** The fused result on device tensors. */
        float[] fused(Data d, Activation activation);

        /** The same kernel's plain result (conv + bias). */
        float[] plain(Data d);

        /** The Java path's plain result. */
        float[] javaPath(Data d);

        /** The float64 convolution with bias, and the sums of |terms| behind each output. */
        NaiveConv.Result reference(Data d);
    }

    // ---- the kernels ---------------------------------------------------------------------------------------

    private static Case conv(String name, ConvSpec spec, int[] xShape, int[] wShape,
            Class<? extends KernelConfig> expectedKernel) {
        ConvGeometry g = spec.resolve(xShape, wShape);
        KernelConfig config = OPENCL.backend().plan(g, true).config();
        assertInstanceOf(expectedKernel, config, name + ": the kernel this case is for");
        return new Case() {
            @Override
            public String name() {
                return name + " (" + config + ")";
            }

            @Override
            public int channels() {
                return g.outChannels();
            }

            @Override
            public int[] inputShape() {
                return xShape;
            }

            @Override
            public int[] kernelShape() {
                return wShape;
            }

            @Override
            public int[] outputShape() {
                return g.outputShape();
            }

            @Override
            public float[] fused(Data d, Activation activation) {
                return onDevice(d, xShape, wShape, g.outputShape(), t -> new Epilogue<>(activation, t[3], t[4], t[5]),
                        (t, e, out) -> OPENCL.backend().forward(g, t[0], t[1], t[2], e, out));
            }

            @Override
            public float[] plain(Data d) {
                return onDevice(d, xShape, wShape, g.outputShape(), t -> Epilogue.none(),
                        (t, e, out) -> OPENCL.backend().forward(g, t[0], t[1], t[2], out));
            }

            @Override
            public float[] javaPath(Data d) {
                float[] out = new float[(int) Tensor.elementCount(g.outputShape())];
                CpuBackend.instance().forward(g, d.x(), d.w(), d.bias(), out);
                return out;
            }

            @Override
            public NaiveConv.Result reference(Data d) {
                return Reference.forward(Tolerance.toDouble(d.x()), xShape, Tolerance.toDouble(d.w()), wShape,
                        d.bias() == null ? null : Tolerance.toDouble(d.bias()), spec.strides(), spec.inputDilation(),
                        spec.kernelDilation(), spec.padding(), spec.groups());
            }
        };
    }

    /** A CIRCULAR ConvTranspose: its convolution, then the fold, whose store applies the epilogue. */
    private static Case circularTranspose(int[] xShape, int[] wShape, int stride) {
        ConvTransposeSpec spec = ConvTransposeSpec.builder().strides(stride).padding(Padding.CIRCULAR).build();
        ConvTransposeGeometry g = spec.resolve(xShape, wShape);
        ConvStep step = new ConvStep(g.conv(), g.circularFold(), g.transposeKernel(), g.outputShape());
        assertTrue(step.outputFold() != null, "a CIRCULAR ConvTranspose ends with a fold");
        return new Case() {
            @Override
            public String name() {
                return "CIRCULAR ConvTranspose fold";
            }

            @Override
            public int channels() {
                return g.outputShape()[g.outputShape().length - 1];
            }

            @Override
            public int[] inputShape() {
                return xShape;
            }

            @Override
            public int[] kernelShape() {
                return wShape;
            }

            @Override
            public int[] outputShape() {
                return g.outputShape();
            }

            @Override
            public float[] fused(Data d, Activation activation) {
                return onDevice(convKernel(d), xShape, step.conv().kernelShape(), g.outputShape(),
                        t -> new Epilogue<>(activation, t[3], t[4], t[5]), (t, e, out) -> ForwardRecipe.run(new DeviceConvOps(OPENCL.backend()), step, t[0], t[1], t[2],
                                e, out));
            }

            @Override
            public float[] plain(Data d) {
                return onDevice(convKernel(d), xShape, step.conv().kernelShape(), g.outputShape(),
                        t -> Epilogue.none(), (t, e, out) -> ForwardRecipe.run(new DeviceConvOps(OPENCL.backend()), step, t[0], t[1], t[2],
                                out));
            }

            /** {@code d} with the kernel as the convolution multiplies by it. */
            private Data convKernel(Data d) {
                return new Data(d.x(), step.convKernel(d.w()), d.bias(), d.scale(), d.shift(), d.residual());
            }

            @Override
            public float[] javaPath(Data d) {
                CpuBackend cpu = CpuBackend.instance();
                float[] unwrapped = new float[(int) Tensor.elementCount(step.conv().outputShape())];
                cpu.forward(step.conv(), d.x(), step.convKernel(d.w()), null, unwrapped);
                float[] out = new float[(int) Tensor.elementCount(g.outputShape())];
                cpu.fold(step.outputFold(), unwrapped, d.bias(), out);
                return out;
            }

            @Override
            public NaiveConv.Result reference(Data d) {
                return new ConvTransposeReference(xShape, wShape, new int[] {stride}, new int[] {1}, Padding.CIRCULAR,
                        false).forward(Tolerance.toDouble(d.x()), Tolerance.toDouble(d.w()),
                                d.bias() == null ? null : Tolerance.toDouble(d.bias()));
            }
        };
    }

    private static Case gemm() {
        return conv("gemm", ConvSpec.defaults(), new int[] {2, 5, 6, 8}, new int[] {3, 3, 8, 12},
                KernelConfig.Gemm.class);
    }

    // ---- the tests -----------------------------------------------------------------------------------------

    @Test
    void gemmStoreAppliesEveryOtherActivation() {
        Case c = gemm();
        CiShare.defaultRun(ALL_ACTIVATIONS, 2).forEach(activation -> assertFused(c, activation, Parts.ALL, 1));
    }

    /** The activations the test above leaves to {@code -Pexhaustive} (each compiles programs of its own on PoCL). */
    @Tag("exhaustive")
    @Test
    void gemmStoreAppliesTheOtherActivations() {
        Case c = gemm();
        CiShare.exhaustiveRun(ALL_ACTIVATIONS, 2).forEach(activation -> assertFused(c, activation, Parts.ALL, 1));
    }

    @Test
    void gemmStoreAppliesEachPartAlone() {
        Case c = gemm();
        assertFused(c, Activation.relu(), new Parts(false, false, false, false), 2);
        assertFused(c, Activation.identity(), new Parts(false, true, false, false), 3);
        assertFused(c, Activation.identity(), new Parts(true, false, true, false), 4);
        assertFused(c, Activation.identity(), new Parts(false, false, false, true), 5);
    }

    @Test
    void phasedGemmStoreAppliesTheEpilogue() {
        Case c = conv("gemm with phases", ConvSpec.builder().inputDilation(2).strides(1, 2)
                .padding(new Padding.Explicit(new int[] {1, 0}, new int[] {0, 2})).build(),
                new int[] {2, 4, 5, 3}, new int[] {3, 2, 3, 5}, KernelConfig.Gemm.class);
        assertFused(c, Activation.leakyRelu(0.2f), Parts.ALL, 6);
        assertFused(c, Activation.gelu(true), new Parts(false, true, true, true), 7);
    }

    @Test
    void depthwiseStoreAppliesTheEpilogue() {
        Case c = conv("depthwise", ConvSpec.builder().groups(8).build(), new int[] {2, 6, 7, 8},
                new int[] {3, 3, 1, 16}, KernelConfig.Depthwise.class);
        assertFused(c, Activation.relu6(), Parts.ALL, 8);
        assertFused(c, Activation.silu(), new Parts(false, true, false, true), 9);
        // The store's vector form: each piecewise-linear activation, and the identity with a scale and a residual.
        assertFused(c, Activation.relu(), new Parts(true, false, false, true), 10);
        assertFused(c, Activation.leakyRelu(0.2f), Parts.ALL, 11);
        assertFused(c, Activation.identity(), new Parts(false, true, false, true), 12);
    }

    @Test
    void generalStoreAppliesTheEpilogue() {
        Case c = conv("general", ConvSpec.defaults(), new int[] {1, 3, 3, 3, 3, 2}, new int[] {2, 2, 2, 2, 2, 3},
                KernelConfig.General.class);
        assertFused(c, Activation.hardSwish(), Parts.ALL, 10);
        assertFused(c, Activation.elu(0.7f), new Parts(false, false, true, true), 11);
    }

    @Test
    void circularTransposeFoldAppliesTheEpilogue() {
        Case c = circularTranspose(new int[] {2, 4, 5, 3}, new int[] {3, 3, 3, 4}, 2);
        assertFused(c, Activation.relu(), Parts.ALL, 12);
        assertFused(c, Activation.tanh(), new Parts(false, true, true, false), 13);
    }

    /** The mma store (emulated off tensor cores), through a plan of that config: fused = plain then epilogue. */
    @Test
    void mmaStoreAppliesTheEpilogue() {
        OpenClBackend backend = OPENCL.backend();
        ConvGeometry g = ConvSpec.builder().precision(Precision.TF32).build().resolve(new int[] {2, 5, 6, 16},
                new int[] {3, 3, 16, 16});
        KernelConfig config = new KernelConfig.Gemm(GemmDefaults.mma(g, Math.max(1, backend.device().maxWorkGroupSize()),
                backend.device().localMemoryBytes()));
        Data d = data(new int[] {2, 5, 6, 16}, new int[] {3, 3, 16, 16}, 16, g.outputShape(), Parts.ALL, 14);
        Epilogue<float[]> epilogue = d.epilogue(Activation.relu());
        EpilogueShape shape = EpilogueShape.of(epilogue);
        ConvPlan plain = backend.plan(g, true, config);
        float[] expected = onDevice(d, g.inputShape(), g.kernelShape(), g.outputShape(), t -> Epilogue.none(),
                (t, e, out) -> backend.forward(plain, g, t[0], t[1], t[2], out));
        HostEpilogue.apply(epilogue, 16, expected);
        try (ConvPlan fused = ConvPlan.create(backend.context(), g, true, shape, config)) {
            assertTrue(fused.buildOptions().contains("-D MMA=1") && fused.buildOptions().contains("-D EPI_SCALE=1"),
                    fused.buildOptions());
            float[] got = onDevice(d, g.inputShape(), g.kernelShape(), g.outputShape(), t -> Epilogue.none(),
                    (t, e, out) -> {
                fused.enqueue(backend.context(), g.batch(), t[0].buffer(), 0, t[1].buffer(), t[2].buffer(), null,
                        out.buffer(), 0, new EpilogueBuffers(t[3].buffer(), t[4].buffer(), t[5].buffer(), 0));
                backend.context().finish();
            });
            assertBitsEqual("mma store", expected, got);
        }
    }

    /**
     * The register-blocked store at each vector width VWN (1, 2, 4, 8, 16), through fused plans of that tiling: equal
     * bit for bit to the plain result followed by the host epilogue, with a NaN and infinities in the residual for the
     * select-based activations. The plain result is the scalar store's (VWN = 1): each output is the same fma chain
     * whatever the width, and one plain program instead of five keeps PoCL's compiling short.
     */
    @Test
    void gemmVectorStoreAppliesTheEpilogueAtEachWidth() {
        OpenClBackend backend = OPENCL.backend();
        int channels = 16;
        ConvGeometry g = ConvSpec.defaults().resolve(new int[] {2, 9, 4}, new int[] {3, 4, channels});
        Data d = data(g.inputShape(), g.kernelShape(), channels, g.outputShape(), Parts.ALL, 19);
        d.residual()[3] = Float.NaN;
        d.residual()[channels + 5] = Float.POSITIVE_INFINITY;
        d.residual()[2 * channels + 6] = Float.NEGATIVE_INFINITY;
        ConvPlan plain = backend.plan(g, true, gemmTiling(channels, 1));
        float[] plainResult = onDevice(d, g.inputShape(), g.kernelShape(), g.outputShape(), t -> Epilogue.none(),
                (t, e, out) -> backend.forward(plain, g, t[0], t[1], t[2], out));
        List<Activation> activations = List.of(Activation.relu(), Activation.relu6(), Activation.leakyRelu(0.2f),
                Activation.identity(), Activation.relu());
        int[] widths = {1, 2, 4, 8, 16};
        for (int i = 0; i < widths.length; i++) {
            Epilogue<float[]> epilogue = d.epilogue(activations.get(i));
            String what = "gemm store VWN=" + widths[i] + " " + activations.get(i);
            float[] expected = plainResult.clone();
            HostEpilogue.apply(epilogue, channels, expected);
            try (ConvPlan fused = ConvPlan.create(backend.context(), g, true, EpilogueShape.of(epilogue),
                    gemmTiling(channels, widths[i]))) {
                assertTrue(fused.buildOptions().contains("-D VWN=" + widths[i] + " "), what + ": "
                        + fused.buildOptions());
                float[] got = onDevice(d, g.inputShape(), g.kernelShape(), g.outputShape(), t -> Epilogue.none(),
                        (t, e, out) -> {
                    fused.enqueue(backend.context(), g.batch(), t[0].buffer(), 0, t[1].buffer(), t[2].buffer(), null,
                            out.buffer(), 0, new EpilogueBuffers(t[3].buffer(), t[4].buffer(), t[5].buffer(), 0));
                    backend.context().finish();
                });
                assertBitsEqual(what, expected, got);
            }
        }
    }

    /** One work-item per 8 rows and all {@code channels}, VWN = {@code width}: 18 rows leave a partial row tile. */
    private static KernelConfig gemmTiling(int channels, int width) {
        return new KernelConfig.Gemm(new Tiling(8, channels, 4, 8, channels, 1, width, 1));
    }

    @Test
    void hostArrayFormsFuseAsTheDeviceFormsDo() {
        OpenClBackend backend = OPENCL.backend();
        Case c = gemm();
        ConvGeometry g = ConvSpec.defaults().resolve(c.inputShape(), c.kernelShape());
        Data d = data(c.inputShape(), c.kernelShape(), c.channels(), c.outputShape(), Parts.ALL, 15);
        Activation relu = Activation.relu();
        float[] onDevice = c.fused(d, relu);
        float[] fromHost = new float[onDevice.length];
        // The output array as the residual too: the host form uploads the residual before anything is written.
        float[] residualInPlace = d.residual().clone();
        backend.forward(g, d.x(), d.w(), d.bias(), new Epilogue<>(relu, d.scale(), d.shift(), residualInPlace),
                residualInPlace);
        backend.forward(g, d.x(), d.w(), d.bias(), d.epilogue(relu), fromHost);
        assertBitsEqual("host-array forward", onDevice, fromHost);
        assertBitsEqual("host-array forward into its own residual", onDevice, residualInPlace);

        ConvTransposeGeometry t = ConvTransposeSpec.builder().strides(2).padding(Padding.CIRCULAR).build()
                .resolve(new int[] {1, 4, 5, 3}, new int[] {3, 3, 3, 4});
        Case fold = circularTranspose(new int[] {1, 4, 5, 3}, new int[] {3, 3, 3, 4}, 2);
        Data f = data(fold.inputShape(), fold.kernelShape(), 4, fold.outputShape(), Parts.ALL, 16);
        float[] unwrapped = new float[(int) Tensor.elementCount(t.conv().outputShape())];
        backend.forward(t.conv(), f.x(), f.w(), null, unwrapped);
        float[] folded = new float[(int) Tensor.elementCount(t.outputShape())];
        backend.fold(t.circularFold(), unwrapped, f.bias(), f.epilogue(relu), folded);
        assertBitsEqual("host-array fold", fold.fused(f, relu), folded);
    }

    @Test
    void nanAndInfinitiesPropagateThroughTheEpilogue() {
        for (Case c : new Case[] {gemm(), circularTranspose(new int[] {2, 4, 5, 3}, new int[] {3, 3, 3, 4}, 2)}) {
            Data d = data(c.inputShape(), c.kernelShape(), c.channels(), c.outputShape(), Parts.ALL, 17);
            d.x()[5] = Float.NaN;
            d.shift()[1] = Float.POSITIVE_INFINITY;
            d.scale()[2] = Float.NEGATIVE_INFINITY;
            d.residual()[7] = Float.NaN;
            d.residual()[c.channels() * 3] = Float.NEGATIVE_INFINITY;
            for (Activation activation : List.of(Activation.relu(), Activation.tanh())) {
                float[] got = c.fused(d, activation);
                float[] expected = c.plain(d);
                HostEpilogue.apply(d.epilogue(activation), c.channels(), expected);
                float[] javaPath = c.javaPath(d);
                HostEpilogue.apply(d.epilogue(activation), c.channels(), javaPath);
                int specials = 0;
                for (int i = 0; i < got.length; i++) {
                    String what = c.name() + " " + activation + " element " + i;
                    if (!Float.isFinite(javaPath[i])) {
                        specials++;
                        assertEquals(Float.isNaN(javaPath[i]), Float.isNaN(got[i]), what + ": NaN as the Java path");
                        assertEquals(Float.isNaN(javaPath[i]) ? Float.NaN : javaPath[i], got[i], what);
                    } else if (!(Math.abs(got[i] - expected[i]) <= 8 * Math.ulp(expected[i]))) {
                        fail(what + ": " + got[i] + ", the plain kernel and the host epilogue give " + expected[i]);
                    }
                }
                assertTrue(specials > c.channels(), c.name() + ": the case has NaN and infinite outputs (" + specials
                        + ")");
            }
        }
    }

    @Test
    void badOperandsAreRefusedBeforeAnythingIsEnqueued() {
        OpenClBackend backend = OPENCL.backend();
        Case c = gemm();
        ConvGeometry g = ConvSpec.defaults().resolve(c.inputShape(), c.kernelShape());
        int channels = c.channels();
        float[] sentinel = new float[(int) Tensor.elementCount(g.outputShape())];
        Arrays.fill(sentinel, 42f);
        try (DeviceTensor x = backend.upload(Tensor.zeros(g.inputShape()));
                DeviceTensor w = backend.upload(Tensor.zeros(g.kernelShape()));
                DeviceTensor shortScale = backend.upload(Tensor.zeros(channels - 1));
                DeviceTensor longShift = backend.upload(Tensor.zeros(channels + 1));
                DeviceTensor flatResidual = backend.upload(Tensor.zeros((int) Tensor.elementCount(g.outputShape())));
                DeviceTensor out = backend.upload(Tensor.of(sentinel.clone(), g.outputShape()))) {
            assertRefused("epilogue scale", "[" + (channels - 1) + "]", () -> backend.forward(g, x, w, null,
                    new Epilogue<>(Activation.relu(), shortScale, null, null), out));
            assertRefused("epilogue shift", "[" + (channels + 1) + "]", () -> backend.forward(g, x, w, null,
                    new Epilogue<>(Activation.relu(), null, longShift, null), out));
            assertRefused("epilogue residual", Arrays.toString(flatResidual.shape()), () -> backend.forward(g, x, w,
                    null, new Epilogue<>(Activation.relu(), null, null, flatResidual), out));
            try (OpenClBackend other = OpenClBackend.create(backend.device());
                    DeviceTensor elsewhere = other.upload(Tensor.zeros(channels))) {
                assertRefused("epilogue scale", "another backend", () -> backend.forward(g, x, w, null,
                        new Epilogue<>(Activation.relu(), elsewhere, null, null), out));
            }
            assertArrayEquals(sentinel, out.download().data(), "the output is untouched");
        }
        float[] hostOut = sentinel.clone();
        float[] x = new float[(int) Tensor.elementCount(g.inputShape())];
        float[] w = new float[(int) Tensor.elementCount(g.kernelShape())];
        assertRefused("scale", "has " + (channels - 1) + " values", () -> backend.forward(g, x, w, null,
                new Epilogue<>(Activation.relu(), new float[channels - 1], null, null), hostOut));
        assertRefused("residual", "has 3 elements", () -> backend.forward(g, x, w, null,
                new Epilogue<>(Activation.relu(), null, null, new float[3]), hostOut));
        assertArrayEquals(sentinel, hostOut, "the host output is untouched");
    }

    @Test
    void plainForwardKeepsItsPlanAfterAFusedOne() {
        OpenClBackend backend = OPENCL.backend();
        Case c = gemm();
        ConvGeometry g = ConvSpec.defaults().resolve(c.inputShape(), c.kernelShape());
        Data d = data(c.inputShape(), c.kernelShape(), c.channels(), c.outputShape(), Parts.ALL, 18);
        float[] before = c.plain(d);
        float[] fused = c.fused(d, Activation.relu());
        float[] after = c.plain(d);
        assertBitsEqual("plain forward after a fused one", before, after);
        assertTrue(!Arrays.equals(before, fused), "the fused result differs from the plain one");
        KernelConfig config = backend.plan(g, true).config();
        EpilogueShape shape = EpilogueShape.of(d.epilogue(Activation.relu()));
        assertNotEquals(PlanKey.of(g, true, config), PlanKey.of(g, true, shape, config));
        assertEquals(PlanKey.of(g, true, config), PlanKey.of(g, true, EpilogueShape.NONE, config));
        assertNotEquals(PlanKey.of(g, true, shape, config), PlanKey.of(g, true,
                EpilogueShape.of(d.epilogue(Activation.leakyRelu(0.25f))), config), "activations have keys of their own");
        assertNotEquals(PlanKey.of(g, true, EpilogueShape.of(d.epilogue(Activation.leakyRelu(0.2f))), config),
                PlanKey.of(g, true, EpilogueShape.of(d.epilogue(Activation.leakyRelu(0.25f))), config),
                "so do parameters");
        assertTrue(!backend.plan(g, true).buildOptions().contains("EPI_"), "a plain plan has no epilogue options");
    }

    // ---- checks --------------------------------------------------------------------------------------------

    /**
     * The fused result of {@code c} with {@code activation} and {@code parts}: against the float64 reference, the Java
     * path followed by the host epilogue, and the kernel's own plain result followed by the host epilogue.
     */
    private static void assertFused(Case c, Activation activation, Parts parts, long seed) {
        String what = c.name() + " " + activation + " with " + parts;
        Data d = data(c.inputShape(), c.kernelShape(), c.channels(), c.outputShape(), parts, seed);
        Epilogue<float[]> epilogue = d.epilogue(activation);
        float[] got = c.fused(d, activation);

        NaiveConv.Result conv = c.reference(d);
        double[] expected = NaiveEpilogue.apply(activation, conv.values(), c.channels(), d.scale(), d.shift(),
                d.residual(), null);
        double[] scale = NaiveEpilogue.errorScale(activation, conv.values(), conv.absSums(), c.channels(), d.scale(),
                d.shift(), d.residual());
        Tolerance.assertClose(what + " against float64", c.outputShape(), expected, scale, c.outputShape(), got);

        float[] javaPath = c.javaPath(d);
        HostEpilogue.apply(epilogue, c.channels(), javaPath);
        Tolerance.assertClose(what + " against the Java path", c.outputShape(), Tolerance.toDouble(javaPath), scale,
                c.outputShape(), got, 2 * Tolerance.RELATIVE);

        float[] unfused = c.plain(d);
        HostEpilogue.apply(epilogue, c.channels(), unfused);
        if (EXACT.contains(activation.kind())) {
            assertBitsEqual(what + " against its plain result and the host epilogue", unfused, got);
        } else {
            Tolerance.assertClose(what + " against its plain result and the host epilogue", c.outputShape(),
                    Tolerance.toDouble(unfused), scale, c.outputShape(), got, Tolerance.RELATIVE);
        }
    }

    private static void assertBitsEqual(String what, float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToIntBits(expected[i]) != Float.floatToIntBits(actual[i])) {
                fail(what + ": element " + i + " is " + actual[i] + ", expected " + expected[i]);
            }
        }
    }

    private static void assertRefused(String operand, String value, Runnable call) {
        IllegalArgumentException refusal = assertThrows(IllegalArgumentException.class, call::run);
        assertTrue(refusal.getMessage().contains(operand) && refusal.getMessage().contains(value),
                "the refusal names " + operand + " and " + value + ": " + refusal.getMessage());
    }

    // ---- data and device runs --------------------------------------------------------------------------------

    private static Data data(int[] xShape, int[] wShape, int channels, int[] outputShape, Parts parts, long seed) {
        Random random = new Random(seed);
        return new Data(gaussian(random, Tensor.elementCount(xShape)), gaussian(random, Tensor.elementCount(wShape)),
                parts.bias() ? gaussian(random, channels) : null, parts.scale() ? gaussian(random, channels) : null,
                parts.shift() ? gaussian(random, channels) : null,
                parts.residual() ? gaussian(random, Tensor.elementCount(outputShape)) : null);
    }

    private static float[] gaussian(Random random, long count) {
        float[] values = new float[Math.toIntExact(count)];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return values;
    }

    /** A device call over uploaded operands {@code (x, w, bias, scale, shift, residual)} (each may be null). */
    interface DeviceCall {
        void run(DeviceTensor[] operands, Epilogue<DeviceTensor> epilogue, DeviceTensor output);
    }

    /** Uploads {@code d}, runs {@code call} into a NaN-poisoned output of {@code outputShape} and downloads it. */
    private static float[] onDevice(Data d, int[] xShape, int[] wShape, int[] outputShape,
            Function<DeviceTensor[], Epilogue<DeviceTensor>> epilogue, DeviceCall call) {
        OpenClBackend backend = OPENCL.backend();
        int channels = outputShape[outputShape.length - 1];
        List<DeviceTensor> made = new ArrayList<>();
        try {
            float[][] values = {d.x(), d.w(), d.bias(), d.scale(), d.shift(), d.residual()};
            DeviceTensor[] tensors = new DeviceTensor[values.length];
            for (int i = 0; i < values.length; i++) {
                if (values[i] != null) {
                    int[] shape = i == 0 ? xShape : i == 1 ? wShape : i == 5 ? outputShape : new int[] {channels};
                    tensors[i] = backend.upload(Tensor.of(values[i], shape));
                    made.add(tensors[i]);
                }
            }
            float[] poison = new float[(int) Tensor.elementCount(outputShape)];
            Arrays.fill(poison, Float.NaN);
            DeviceTensor out = backend.upload(Tensor.of(poison, outputShape));
            made.add(out);
            call.run(tensors, epilogue.apply(tensors), out);
            return out.download().data();
        } finally {
            made.forEach(DeviceTensor::close);
        }
    }
}
