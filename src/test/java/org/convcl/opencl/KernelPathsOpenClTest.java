package org.convcl.opencl;

import org.convcl.opencl.device.OpenClDevice;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.convcl.ConvGeometry;
import org.convcl.ConvSpec;
import org.convcl.Padding;
import org.convcl.opencl.internal.plan.ConvPlan;
import org.convcl.opencl.internal.plan.KernelConfig;
import org.convcl.opencl.internal.plan.Tiling;
import org.convcl.opencl.internal.runtime.ClBuffer;
import org.convcl.opencl.internal.runtime.OpenClContext;
import org.convcl.opencl.internal.tuning.DefaultConfigs;
import org.convcl.testing.OpenClBackendPerClass;
import org.convcl.testing.PlanCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Each specialised path of the OpenCL kernels against the float64 reference on randomised configurations
 * aimed at it: input dilation's phases (odd strides, paddings and dilations; K tiles inside taps with
 * channel vectors, and K tiles across taps), the depthwise kernel (channel multipliers, every edge mode,
 * input dilation, wide vectors and several outputs per work-item), and 1x1 kernels as a plain GEMM. Seeds
 * are fixed, so a failure names a reproducible case.
 */
class KernelPathsOpenClTest {
    @RegisterExtension
    static final OpenClBackendPerClass OPENCL = new OpenClBackendPerClass();

    /** One configuration with the config to run it with (null: the backend's default choice). */
    record Case(String name, int[] xShape, int[] wShape, ConvSpec spec, KernelConfig config) {
        @Override
        public String toString() {
            return name + ": x" + Arrays.toString(xShape) + " w" + Arrays.toString(wShape) + " " + spec
                    + (config == null ? "" : " " + config);
        }
    }

    /** Input dilation 2 or 3 with strides, kernel dilations and explicit (also negative) paddings. */
    static Stream<Case> phaseCases() {
        List<Case> cases = new ArrayList<>();
        Random random = new Random(11);
        // Channels of 16 and a 16-deep K tile: K tiles inside taps, 4- and 8-wide channel loads.
        Tiling[] channelTilings = {new Tiling(16, 8, 16, 4, 4, 4, 4, 4), new Tiling(8, 16, 16, 8, 16, 1, 16, 8)};
        // Three channels: K tiles across taps, with the per-phase tap table.
        Tiling[] crossingTilings = {new Tiling(16, 8, 8, 2, 2, 2, 2, 1), new Tiling(8, 8, 8, 8, 8, 1, 8, 1)};
        for (int i = 0; i < 8; i++) {
            int rank = 1 + i % 3;
            boolean channelTiles = i % 2 == 0;
            int cin = channelTiles ? 16 : 3;
            int cout = channelTiles ? 8 : 5;
            int[] xShape;
            int[] wShape;
            ConvSpec spec;
            do { // redrawn until the output is not empty
                int[] spatial = new int[rank];
                int[] k = new int[rank];
                int[] strides = new int[rank];
                int[] inputDilation = new int[rank];
                int[] kernelDilation = new int[rank];
                int[] lo = new int[rank];
                int[] hi = new int[rank];
                for (int d = 0; d < rank; d++) {
                    spatial[d] = 2 + random.nextInt(rank == 3 ? 3 : 6);
                    k[d] = 1 + random.nextInt(4);
                    strides[d] = 1 + random.nextInt(3);
                    inputDilation[d] = 2 + random.nextInt(2);
                    kernelDilation[d] = 1 + random.nextInt(3);
                    lo[d] = random.nextInt(5) - 1;
                    hi[d] = random.nextInt(5) - 1;
                }
                spec = ConvSpec.builder().strides(strides).inputDilation(inputDilation).kernelDilation(kernelDilation)
                        .padding(new Padding.Explicit(lo, hi)).build();
                xShape = shape(1 + i % 2, spatial, cin);
                wShape = kernelShape(k, cin, cout);
            } while (spec.resolve(xShape, wShape).outputSpatialSize() == 0);
            Tiling tiling = (channelTiles ? channelTilings : crossingTilings)[(i / 2) % 2];
            cases.add(new Case("phases " + i, xShape, wShape, spec, new KernelConfig.Gemm(tiling)));
        }
        return cases.stream();
    }

    /** Depthwise: groups == input channels, multipliers 1 and 2, every edge mode, input dilation. */
    static Stream<Case> depthwiseCases() {
        List<Case> cases = new ArrayList<>();
        Padding[] paddings = {Padding.SAME, Padding.CIRCULAR, Padding.REFLECT, Padding.VALID,
            new Padding.Explicit(new int[] {2, -1}, new int[] {0, 3})};
        KernelConfig.Depthwise[] configs = {new KernelConfig.Depthwise(4, 4, 16), new KernelConfig.Depthwise(16, 3, 8),
            new KernelConfig.Depthwise(1, 1, 32), new KernelConfig.Depthwise(8, 8, 1)};
        for (int i = 0; i < paddings.length; i++) {
            int channels = i % 2 == 0 ? 16 : 6;
            int multiplier = 1 + i % 2;
            boolean dilated = paddings[i] instanceof Padding.Explicit;
            ConvSpec spec = ConvSpec.builder().strides(1 + i % 2, 1).kernelDilation(1, 1 + i % 3)
                    .inputDilation(dilated ? 2 : 1, 1).padding(paddings[i]).groups(channels).build();
            cases.add(new Case("depthwise " + i, new int[] {2, 7, 9, channels},
                    new int[] {3, 1 + i % 3 + 1, 1, channels * multiplier}, spec, configs[i % configs.length]));
        }
        // Rank 1 and rank 3, through the default choice.
        cases.add(new Case("depthwise 1d", new int[] {3, 17, 8}, new int[] {5, 1, 8},
                ConvSpec.builder().padding(Padding.CAUSAL).kernelDilation(2).groups(8).build(), null));
        cases.add(new Case("depthwise 3d", new int[] {1, 4, 5, 6, 4}, new int[] {3, 3, 3, 1, 8},
                ConvSpec.builder().strides(2, 1, 1).groups(4).build(), null));
        return cases.stream();
    }

    /** 1x1 kernels: the input is the GEMM's A matrix (with groups, and with a stride that is not). */
    static Stream<Case> pointwiseCases() {
        return Stream.of(
                new Case("pointwise", new int[] {2, 5, 7, 32}, new int[] {1, 1, 32, 24}, ConvSpec.defaults(), null),
                new Case("pointwise groups", new int[] {3, 11, 12}, new int[] {1, 4, 6},
                        ConvSpec.builder().groups(3).build(), new KernelConfig.Gemm(new Tiling(8, 4, 4, 4, 2, 2, 2, 4))),
                new Case("pointwise strided", new int[] {1, 9, 9, 8}, new int[] {1, 1, 8, 8},
                        ConvSpec.builder().strides(2).build(), null),
                new Case("pointwise 3d", new int[] {1, 3, 4, 5, 16}, new int[] {1, 1, 1, 16, 16}, ConvSpec.defaults(),
                        new KernelConfig.Gemm(new Tiling(32, 16, 16, 4, 4, 4, 4, 4))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("phaseCases")
    void inputDilationPhasesAreExact(Case c) {
        assertMatchesReference(c);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("depthwiseCases")
    void depthwiseKernelIsExact(Case c) {
        assertMatchesReference(c);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("pointwiseCases")
    void pointwiseGemmIsExact(Case c) {
        assertMatchesReference(c);
    }

    @Test
    void defaultsPickTheSpecialisedKernels() {
        OpenClDevice device = OPENCL.backend().device();
        ConvGeometry depthwise = ConvSpec.builder().groups(8).build().resolve(new int[] {1, 6, 6, 8},
                new int[] {3, 3, 1, 8});
        assertInstanceOf(KernelConfig.Depthwise.class, DefaultConfigs.untuned(depthwise, device));
        ConvGeometry dense = ConvSpec.defaults().resolve(new int[] {1, 6, 6, 8}, new int[] {3, 3, 8, 8});
        assertInstanceOf(KernelConfig.Gemm.class, DefaultConfigs.untuned(dense, device));
        ConvGeometry rank4 = ConvSpec.defaults().resolve(new int[] {1, 3, 3, 3, 3, 2}, new int[] {2, 2, 2, 2, 2, 2});
        assertInstanceOf(KernelConfig.General.class, DefaultConfigs.untuned(rank4, device));
        // Plans fit vector widths to the channels: 6 output channels cannot take 4-wide stores.
        ConvGeometry six = ConvSpec.defaults().resolve(new int[] {1, 5, 5, 8}, new int[] {3, 3, 8, 6});
        ConvPlan plan = OPENCL.backend().plan(six, false, new KernelConfig.Gemm(new Tiling(16, 8, 8, 4, 4, 4, 4, 4)));
        Tiling compiled = ((KernelConfig.Gemm) plan.config()).tiling();
        assertEquals(2, compiled.vectorN());
        assertTrue(plan.buildOptions().contains("-D VWN=2"), plan.buildOptions());
    }

    @Test
    void misalignedOffsetsAreRefusedByVectorPlans() {
        ConvGeometry g = ConvSpec.defaults().resolve(new int[] {1, 4, 4, 8}, new int[] {3, 3, 8, 8});
        ConvPlan plan = OPENCL.backend().plan(g, false, new KernelConfig.Gemm(new Tiling(16, 8, 8, 4, 4, 4, 4, 4)));
        OpenClContext context = OPENCL.backend().context();
        try (ClBuffer in = context.allocate(4L * 200, "input"); ClBuffer w = context
                .allocate(4L * 576, "kernel"); ClBuffer out = context.allocate(4L * 200, "output")) {
            IllegalArgumentException refusal = org.junit.jupiter.api.Assertions.assertThrows(
                    IllegalArgumentException.class, () -> plan.enqueue(context, 1, in, 2, w, w, out, 0));
            assertTrue(refusal.getMessage().contains("multiples"), refusal.getMessage());
        }
    }

    private static void assertMatchesReference(Case c) {
        PlanCheck.assertMatchesReference(c.toString(), OPENCL.backend(), c.spec(), c.xShape(), c.wShape(), c.config(),
                Arrays.hashCode(c.xShape()) * 31L + Arrays.hashCode(c.wShape()));
    }

    private static int[] shape(int batch, int[] spatial, int channels) {
        int[] shape = new int[spatial.length + 2];
        shape[0] = batch;
        System.arraycopy(spatial, 0, shape, 1, spatial.length);
        shape[shape.length - 1] = channels;
        return shape;
    }

    private static int[] kernelShape(int[] k, int cin, int cout) {
        int[] shape = Arrays.copyOf(k, k.length + 2);
        shape[k.length] = cin;
        shape[k.length + 1] = cout;
        return shape;
    }
}
