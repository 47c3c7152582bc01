package org.convcl.opencl;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.convcl.nn.Conv;
import org.convcl.ConvGeometry;
import org.convcl.ConvSpec;
import org.convcl.Padding;
import org.convcl.Precision;
import org.convcl.opencl.internal.plan.ConvPlan;
import org.convcl.opencl.internal.plan.KernelConfig;
import org.convcl.opencl.internal.plan.Tiling;
import org.convcl.opencl.internal.runtime.ComputeCapability;
import org.convcl.testing.CiShare;
import org.convcl.testing.GoldenCase;
import org.convcl.testing.OpenClBackendPerClass;
import org.convcl.testing.PlanCheck;
import org.convcl.testing.Tf32Checks;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * TF32 on OpenCL (PoCL in CI): the golden suite with the default plans (a spread of the cases in the default run,
 * the others under {@code mvn -o -B test -Pexhaustive}, {@link CiShare}) (operands rounded as the tiles are staged),
 * and the warp-level mma path through its emulated twin, which loads the same per-lane fragments as the tensor-core
 * PTX and so checks their indexing here: every tiling against float64 and against the Java path's TF32.
 */
class Tf32OpenClTest {
    @RegisterExtension
    static final OpenClBackendPerClass OPENCL = new OpenClBackendPerClass();

    /** Warp tiles 16 x 8 (one mma), 32 x 8 and 32 x 16 (2 x 2 mma), one to four warps, single and double buffered. */
    private static final Tiling[] MMA_TILINGS = {new Tiling(32, 8, 8, 2, 2, 1, 1, 1, 1, true),
        new Tiling(32, 16, 16, 4, 2, 1, 2, 4, 2, true), new Tiling(64, 32, 16, 4, 4, 1, 4, 4, 2, true)};

    record Case(String name, int[] xShape, int[] wShape, ConvSpec spec, Tiling tiling) {
        @Override
        public String toString() {
            return name + ": x" + Arrays.toString(xShape) + " w" + Arrays.toString(wShape) + " " + spec + " " + tiling;
        }
    }

    /**
     * The forward cases whose products TF32 rounds. Depthwise ones (one input channel per group) compute in float32
     * whatever the precision, with the same program as GoldenOpenClTest's; compiling them again would add time,
     * not checks (the Java-path test runs them all in TF32).
     */
    /** Every golden conv case TF32 applies to: a quarter in the default run, the rest in the exhaustive one. */
    private static List<GoldenCase> allConvCases() {
        return GoldenCase.ofOp("conv").stream().filter(c -> c.error() == null).filter(c -> Tf32Checks.tf32(c.spec())
                .resolve(c.inputShape(), c.array("kernel").shape()).productPrecision() == Precision.TF32).toList();
    }

    static Stream<GoldenCase> convCases() {
        return CiShare.defaultRun(allConvCases(), 4);
    }

    static Stream<GoldenCase> otherConvCases() {
        return CiShare.exhaustiveRun(allConvCases(), 4);
    }

    static Stream<GoldenCase> gradientCases() {
        return CiShare.defaultRun(GoldenCase.all().stream().filter(GoldenCase::grads).toList(), 2);
    }

    static Stream<GoldenCase> otherGradientCases() {
        return CiShare.exhaustiveRun(GoldenCase.all().stream().filter(GoldenCase::grads).toList(), 2);
    }

    /**
     * Ranks 1 to 3, K tiles inside taps (16 channels) and across them (3 channels), groups, strides, input dilation's
     * phases, output channels that leave a tile part empty; each on every mma tiling in turn.
     */
    static Stream<Case> mmaCases() {
        List<Case> cases = new ArrayList<>();
        Random random = new Random(16);
        for (int i = 0; i < 9; i++) {
            int rank = 1 + i % 3;
            int groups = i % 4 == 3 ? 2 : 1;
            int cinPerGroup = i % 2 == 0 ? 16 : 3;
            int coutPerGroup = new int[] {5, 8, 12, 20}[i % 4];
            int[] spatial = new int[rank];
            int[] k = new int[rank];
            int[] strides = new int[rank];
            int[] inputDilation = new int[rank];
            for (int d = 0; d < rank; d++) {
                spatial[d] = 3 + random.nextInt(rank == 3 ? 4 : 9);
                k[d] = 1 + random.nextInt(3);
                strides[d] = 1 + random.nextInt(2);
                inputDilation[d] = i % 3 == 2 ? 2 : 1;
            }
            int[] xShape = new int[rank + 2];
            xShape[0] = 1 + i % 2;
            System.arraycopy(spatial, 0, xShape, 1, rank);
            xShape[rank + 1] = cinPerGroup * groups;
            int[] wShape = Arrays.copyOf(k, rank + 2);
            wShape[rank] = cinPerGroup;
            wShape[rank + 1] = coutPerGroup * groups;
            int[] pad = new int[rank];
            Arrays.fill(pad, 1);
            ConvSpec spec = ConvSpec.builder().strides(strides).inputDilation(inputDilation).groups(groups)
                    .padding(new Padding.Explicit(pad, pad)).precision(Precision.TF32).build();
            cases.add(new Case("mma " + i, xShape, wShape, spec, MMA_TILINGS[i % MMA_TILINGS.length]));
        }
        return cases.stream();
    }

    @Tag("exhaustive")
    @ParameterizedTest(name = "{0}")
    @MethodSource("otherConvCases")
    void otherGoldenForwardCasesOnDefaultPlans(GoldenCase c) {
        goldenForwardCasesOnDefaultPlans(c);
    }

    @Tag("exhaustive")
    @ParameterizedTest(name = "{0}")
    @MethodSource("otherGradientCases")
    void otherGoldenGradientCasesOnTheDevice(GoldenCase c) {
        goldenGradientCasesOnTheDevice(c);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("convCases")
    void goldenForwardCasesOnDefaultPlans(GoldenCase c) {
        try (Conv layer = Conv.builder(c.array("kernel")).bias(c.has("bias") ? c.array("bias") : null)
                .spec(Tf32Checks.tf32(c.spec())).backend(OPENCL.backend()).build()) {
            Tf32Checks.assertForward(c, layer.apply(c.array("x")));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("gradientCases")
    void goldenGradientCasesOnTheDevice(GoldenCase c) {
        try (Conv layer = Conv.builder(c.array("kernel")).bias(c.has("bias") ? c.array("bias") : null)
                .spec(Tf32Checks.tf32(c.spec())).backend(OPENCL.backend()).build()) {
            Tf32Checks.assertGradients(c, layer.backward(c.array("x"), c.array("ct")));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("mmaCases")
    void emulatedMmaMatchesFloat64AndTheJavaPath(Case c) {
        ConvPlan plan = PlanCheck.assertMatchesReference(c.toString(), OPENCL.backend(), c.spec(), c.xShape(),
                c.wShape(), new KernelConfig.Gemm(c.tiling()), Arrays.hashCode(c.xShape()) * 31L + c.wShape()[0]);
        boolean tensorCores = ComputeCapability.hasTf32TensorCores(OPENCL.backend().device());
        assertTrue(plan.buildOptions().contains("-D TF32=1 -D MMA=1 -D MMA_PTX=" + (tensorCores ? 1 : 0)),
                plan.buildOptions());
    }

    @Test
    void float32PlansAreBuiltAsBeforeAndMmaNeedsTf32() {
        ConvSpec highest = ConvSpec.defaults();
        ConvGeometry g = highest.resolve(new int[] {1, 6, 6, 16}, new int[] {3, 3, 16, 8});
        ConvPlan plan = OPENCL.backend().plan(g, true);
        assertFalse(plan.buildOptions().contains("TF32") || plan.buildOptions().contains("MMA"), plan.buildOptions());
        ConvPlan tf32 = OPENCL.backend().plan(g.withPrecision(Precision.TF32), true);
        assertTrue(tf32.buildOptions().contains("-D TF32=1"), tf32.buildOptions());
        IllegalArgumentException refusal = assertThrows(IllegalArgumentException.class,
                () -> OPENCL.backend().plan(g, true, new KernelConfig.Gemm(MMA_TILINGS[0])));
        assertTrue(refusal.getMessage().contains("mma multiplies TF32 operands"), refusal.getMessage());
        // Depthwise stays float32 in TF32: its plan rounds nothing.
        ConvGeometry depthwise = highest.toBuilder().groups(8).precision(Precision.TF32).build()
                .resolve(new int[] {1, 6, 6, 8}, new int[] {3, 3, 1, 8});
        assertFalse(OPENCL.backend().plan(depthwise, true).buildOptions().contains("TF32"));
    }

    @Test
    void pointwiseInTf32() {
        ConvSpec spec = ConvSpec.builder().padding(Padding.VALID).precision(Precision.TF32).build();
        PlanCheck.assertMatchesReference("pointwise", OPENCL.backend(), spec, new int[] {2, 7, 5, 16},
                new int[] {1, 1, 16, 24}, null, 5);
        PlanCheck.assertMatchesReference("pointwise mma", OPENCL.backend(), spec, new int[] {2, 7, 5, 16},
                new int[] {1, 1, 16, 24}, new KernelConfig.Gemm(MMA_TILINGS[2]), 6);
    }
}
