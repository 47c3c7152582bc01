package org.convcl.opencl;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.convcl.ConvGeometry;
import org.convcl.DType;
import org.convcl.HalfFloats;
import org.convcl.Tensor;
import org.convcl.opencl.internal.plan.ConvPlan;
import org.convcl.opencl.internal.plan.ForwardVariants;
import org.convcl.opencl.internal.plan.GemmVariant;
import org.convcl.opencl.internal.plan.KernelConfig;
import org.convcl.opencl.internal.plan.Tiling;
import org.convcl.opencl.internal.runtime.ComputeCapability;
import org.convcl.testing.GoldenCase;
import org.convcl.testing.HalfGolden;
import org.convcl.testing.OpenClBackendPerClass;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every golden case in float16 and bfloat16 on the OpenCL device (issue 26's "Done when"), outside the default
 * test run: the CI subsets (HalfForwardOpenClTest, HalfMmaOpenClTest, HalfGradientOpenClTest) compile a program per
 * case and type, about a second each on PoCL, and every case would take minutes CI does not have. Run it with
 * {@code mvn -o -B test -Pexhaustive} (the pom's profile runs the JUnit tag "exhaustive" alone).
 *
 * <ul>
 * <li>Every computed golden conv case through the default plan (the GEMM, depthwise and general kernels; the kernels
 * reached are checked and listed), against float64 on the rounded operands within {@code HalfBound}.
 * <li>The same cases through the warp-level mma forced by an explicit config (emulated off NVIDIA tensor cores,
 * whose per-lane fragments it packs as the PTX does), one of three tilings in turn; a case the GEMM does not take
 * is aborted with the reason, counted and listed, never passed as checked.
 * <li>Every golden gradient case (dx and dkernel in the type, dbias in float32) with the case's own cotangent
 * rounded to the type, through {@link HalfGradientCheck}.
 * <li>Every computed golden transposed convolution, as a layer runs it on a device (the kernel flipped and swapped,
 * the phased convolution, a CIRCULAR fold), through {@link HalfTransposeOpenClTest#assertWithinTheBound}.
 * </ul>
 */
@Tag("exhaustive")
class HalfGoldenExhaustiveOpenClTest {
    @RegisterExtension
    static final OpenClBackendPerClass OPENCL = new OpenClBackendPerClass();

    private static final List<DType> TYPES = List.of(DType.FLOAT16, DType.BFLOAT16);

    /**
     * HalfMmaOpenClTest's tilings: one 16 x 8 product per warp; K tiles of 32 (two mma steps a tile); four warps of
     * 2 x 2 products; single and double buffered. Taken in turn so that each meets a third of the cases.
     */
    private static final Tiling[] MMA_TILINGS = {new Tiling(32, 8, 16, 2, 2, 1, 1, 1, 1, true),
        new Tiling(32, 16, 32, 4, 2, 1, 2, 4, 2, true), new Tiling(64, 32, 16, 4, 4, 1, 4, 4, 2, true)};

    /** Default-plan cases per forward kernel, and the mma cases the GEMM does not take with why. */
    private static final Map<String, Integer> DEFAULT_KERNELS = new ConcurrentHashMap<>();
    private static final Map<String, String> NOT_TAKEN_BY_MMA = new ConcurrentHashMap<>();
    private static final String EMPTY = "none (empty output)";

    static Stream<Arguments> forwardCases() {
        return computedConvCases().stream().flatMap(c -> TYPES.stream().map(dtype -> Arguments.of(c, dtype)));
    }

    /** The forward cases, each with the next of {@link #MMA_TILINGS} in turn. */
    static Stream<Arguments> mmaCases() {
        List<Arguments> cases = new ArrayList<>();
        int index = 0;
        for (GoldenCase c : computedConvCases()) {
            for (DType dtype : TYPES) {
                cases.add(Arguments.of(c, dtype, MMA_TILINGS[index++ % MMA_TILINGS.length]));
            }
        }
        return cases.stream();
    }

    /** The golden conv cases flax computed (the others are refusals, which no type changes). */
    private static List<GoldenCase> computedConvCases() {
        return GoldenCase.ofOp("conv").stream().filter(c -> c.error() == null).toList();
    }

    static Stream<Arguments> transposeCases() {
        return GoldenCase.ofOp("conv_transpose").stream().filter(c -> c.error() == null)
                .flatMap(c -> TYPES.stream().map(dtype -> Arguments.of(c, dtype)));
    }

    @ParameterizedTest(name = "{0} in {1}")
    @MethodSource("transposeCases")
    void transposesWithinTheBound(GoldenCase c, DType dtype) {
        HalfTransposeOpenClTest.assertWithinTheBound(c, dtype, OPENCL.backend());
    }

    static Stream<Arguments> gradientCases() {
        return GoldenCase.all().stream().filter(GoldenCase::grads)
                .flatMap(c -> TYPES.stream().map(dtype -> Arguments.of(c, dtype)));
    }

    @ParameterizedTest(name = "{0} in {1}")
    @MethodSource("forwardCases")
    void defaultPlanWithinTheBound(GoldenCase c, DType dtype) {
        OpenClBackend backend = OPENCL.backend();
        HalfGolden half = HalfGolden.of(c, dtype);
        ConvGeometry g = half.geometry().withStorage(dtype);
        if (Tensor.elementCount(g.outputShape()) == 0) {
            // No plan and no device tensor hold an empty output: the host-bits form must still take the call.
            DEFAULT_KERNELS.merge(EMPTY, 1, Integer::sum);
            short[] output = half.outputBits();
            backend.forward(half.geometry(), dtype, half.inputBits(), half.kernelBits(), half.biasBits(), output);
            half.assertWithinBound("host bits (empty output)", output);
            return;
        }
        String kernel = ForwardVariants.of(backend.plan(g, half.bias() != null).config()).name();
        DEFAULT_KERNELS.merge(kernel, 1, Integer::sum);
        try (DeviceTensor input = upload(backend, half.inputBits(), dtype, half.x());
                DeviceTensor weights = upload(backend, half.kernelBits(), dtype, half.kernel());
                DeviceTensor bias = half.bias() == null ? null : upload(backend, half.biasBits(), dtype, half.bias());
                DeviceTensor output = DeviceTensor.upload(backend, poison(g), dtype, g.outputShape())) {
            backend.forward(half.geometry(), input, weights, bias, output);
            half.assertWithinBound("default plan (" + kernel + ")", output.downloadBits());
        }
    }

    @ParameterizedTest(name = "{0} in {1} as {2}")
    @MethodSource("mmaCases")
    void warpLevelMmaWithinTheBound(GoldenCase c, DType dtype, Tiling tiling) {
        OpenClBackend backend = OPENCL.backend();
        HalfGolden half = HalfGolden.of(c, dtype);
        ConvGeometry g = half.geometry().withStorage(dtype);
        KernelConfig.Gemm config = new KernelConfig.Gemm(tiling);
        if (Tensor.elementCount(g.outputShape()) == 0 || !ForwardVariants.fits(config, g, backend.device())) {
            String reason = notTakenReason(g, tiling);
            NOT_TAKEN_BY_MMA.put(c.name() + " in " + dtype.cliName(), reason);
            Assumptions.abort("the GEMM does not take " + c.name() + " in " + dtype.cliName() + ": " + reason);
        }
        ConvPlan mma = backend.plan(g, half.bias() != null, config);
        boolean tensorCores = ComputeCapability.hasTf32TensorCores(backend.device());
        assertTrue(mma.buildOptions().contains("-D MMA=1 -D MMA_PTX=" + (tensorCores ? 1 : 0)), mma.buildOptions());
        try (DeviceTensor input = upload(backend, half.inputBits(), dtype, half.x());
                DeviceTensor weights = upload(backend, half.kernelBits(), dtype, half.kernel());
                DeviceTensor bias = half.bias() == null ? null : upload(backend, half.biasBits(), dtype, half.bias());
                DeviceTensor output = DeviceTensor.upload(backend, poison(g), dtype, g.outputShape())) {
            backend.forward(mma, g, input, weights, bias, output);
            half.assertWithinBound(mma.config().toString(), output.downloadBits());
        }
    }

    @ParameterizedTest(name = "{0} in {1}")
    @MethodSource("gradientCases")
    void gradientsWithinTheBound(GoldenCase c, DType dtype) {
        HalfGradientCheck.assertWithinBound(OPENCL.backend(), c, dtype, c.array("ct"), null);
    }

    /**
     * Lists what the run covered and checks that the default plans reached each forward kernel, so that a change
     * of the golden data or of the plans that leaves one out shows here.
     */
    @AfterAll
    static void reportCoverage() {
        if (DEFAULT_KERNELS.isEmpty()) {
            return;
        }
        System.out.println("HalfGoldenExhaustiveOpenClTest: default-plan cases per kernel: "
                + new TreeMap<>(DEFAULT_KERNELS));
        System.out.println("HalfGoldenExhaustiveOpenClTest: " + NOT_TAKEN_BY_MMA.size()
                + " cases the GEMM's mma does not take:");
        new TreeMap<>(NOT_TAKEN_BY_MMA).forEach((name, why) -> System.out.println("  " + name + ": " + why));
        assertTrue(DEFAULT_KERNELS.keySet().containsAll(List.of("depthwise", "gemm", "general")),
                "the forward kernels the golden cases' default plans reach: " + DEFAULT_KERNELS.keySet());
    }

    /** Why {@code g} is no GEMM geometry for {@code tiling}, in GemmVariant's terms. */
    private static String notTakenReason(ConvGeometry g, Tiling tiling) {
        if (Tensor.elementCount(g.outputShape()) == 0) {
            return "output " + Arrays.toString(g.outputShape()) + " is empty: there is nothing to plan";
        }
        if (g.rank() > 3) {
            return "rank " + g.rank() + ": the GEMM takes ranks 1 to 3 (the general kernel runs it)";
        }
        if (!GemmVariant.INSTANCE.supports(g)) {
            return "edge padding " + g.edgeMode() + " with input dilation " + Arrays.toString(g.inputDilation())
                    + ": the GEMM's phases take zero padding only (the general kernel runs it)";
        }
        return "tiling " + tiling + " does not fit the device (work-group size, local memory or column groups)";
    }

    /** NaN bits in every output element, so that an element the kernel leaves unwritten fails the bound. */
    private static short[] poison(ConvGeometry g) {
        short[] bits = new short[(int) Tensor.elementCount(g.outputShape())];
        Arrays.fill(bits, HalfFloats.encode(g.storage(), Float.NaN));
        return bits;
    }

    private static DeviceTensor upload(OpenClBackend backend, short[] bits, DType dtype, Tensor shapeOf) {
        return DeviceTensor.upload(backend, bits, dtype, shapeOf.shape());
    }
}
