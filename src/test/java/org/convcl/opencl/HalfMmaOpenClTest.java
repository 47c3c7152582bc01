package org.convcl.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.convcl.ConvGeometry;
import org.convcl.ConvSpec;
import org.convcl.DType;
import org.convcl.HalfFloats;
import org.convcl.Padding;
import org.convcl.Tensor;
import org.convcl.opencl.internal.plan.CodePath;
import org.convcl.opencl.internal.plan.ConvPlan;
import org.convcl.opencl.internal.plan.ForwardVariants;
import org.convcl.opencl.internal.plan.GemmVariant;
import org.convcl.opencl.internal.plan.KernelConfig;
import org.convcl.opencl.internal.plan.Tiling;
import org.convcl.opencl.internal.probe.ProbeCase;
import org.convcl.opencl.internal.probe.ProbeResult;
import org.convcl.opencl.internal.probe.VariantProbe;
import org.convcl.opencl.internal.runtime.ComputeCapability;
import org.convcl.testing.CiShare;
import org.convcl.testing.HalfBound;
import org.convcl.testing.NaiveConv;
import org.convcl.testing.OpenClBackendPerClass;
import org.convcl.testing.Reference;
import org.convcl.testing.Tolerance;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The warp-level mma on float16 and bfloat16 operands (issue 26) through its emulated twin, which packs and loads the
 * same per-lane m16n8k16 fragments as the tensor-core PTX and so checks their indexing here (PoCL in CI). Each case
 * forces an mma tiling through an explicit config and is held to float64 on the rounded operands within
 * {@link HalfBound}, and to the register-blocked FMA plan of the same geometry: both add the same exact products in
 * the same order (k ascending, one float32 accumulator per output, padding zeros adding +0), so their bits agree.
 * The tensor cores' own sums (their order and rounding are the hardware's) are left to the probe on the GPU.
 */
class HalfMmaOpenClTest {
    @RegisterExtension
    static final OpenClBackendPerClass OPENCL = new OpenClBackendPerClass();

    /**
     * Two warps of one 16 x 8 product each; two warps of 2 x 1 products over K tiles of 32 (two mma steps a tile);
     * four warps of 2 x 2 products. Single and double buffered. Small, since PoCL compiles every emulated product
     * with its barriers inline.
     */
    private static final Tiling[] TILINGS = {new Tiling(32, 8, 16, 2, 2, 1, 1, 1, 1, true),
        new Tiling(32, 16, 32, 4, 2, 1, 2, 4, 2, true), new Tiling(64, 32, 16, 4, 4, 1, 4, 4, 2, true)};

    record Case(String name, DType dtype, int[] xShape, int[] wShape, ConvSpec spec, Tiling tiling) {
        @Override
        public String toString() {
            return name + " in " + dtype.cliName() + ": x" + Arrays.toString(xShape) + " w" + Arrays.toString(wShape)
                    + " " + tiling;
        }
    }

    /**
     * Four cases, each compiling two programs on PoCL (about 5 s of CPU together): ranks 1 to 3; K tiles inside taps
     * (16 and 32 channels per group) and across them (5 channels: K of 15 and 40, no multiple of 16); groups, stride,
     * kernel dilation, input dilation's phases; output channels that leave a tile part empty; a 1x1 kernel (the
     * pointwise GEMM); each tiling and each type at least twice.
     */
    /** One case of each type in the default run; the other two under the exhaustive run ({@link CiShare}). */
    static Stream<Case> cases() {
        return CiShare.defaultRun(allCases().toList(), 2);
    }

    static Stream<Case> otherCases() {
        return CiShare.exhaustiveRun(allCases().toList(), 2);
    }

    private static Stream<Case> allCases() {
        ConvSpec dilated = ConvSpec.builder().inputDilation(3).kernelDilation(2)
                .padding(new Padding.Explicit(new int[] {1}, new int[] {2})).build();
        ConvSpec grouped = ConvSpec.builder().groups(2).strides(2).padding(Padding.SAME).build();
        ConvSpec phased = ConvSpec.builder().inputDilation(2).padding(new Padding.Explicit(new int[] {1, 1, 0},
                new int[] {0, 1, 1})).build();
        return Stream.of(
                new Case("1-d dilated", DType.FLOAT16, new int[] {1, 6, 5}, new int[] {3, 5, 7}, dilated, TILINGS[1]),
                new Case("2-d groups", DType.FLOAT16, new int[] {2, 6, 5, 32}, new int[] {3, 3, 16, 10}, grouped,
                        TILINGS[2]),
                new Case("3-d phased", DType.BFLOAT16, new int[] {1, 3, 4, 3, 5}, new int[] {2, 2, 2, 5, 8}, phased,
                        TILINGS[0]),
                new Case("1x1", DType.BFLOAT16, new int[] {2, 5, 7, 32}, new int[] {1, 1, 32, 24},
                        ConvSpec.defaults(), TILINGS[1]));
    }

    @Tag("exhaustive")
    @ParameterizedTest(name = "{0}")
    @MethodSource("otherCases")
    void otherCasesMatchFloat64AndTheFmaPlan(Case c) {
        emulatedMmaMatchesFloat64AndTheFmaPlan(c);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void emulatedMmaMatchesFloat64AndTheFmaPlan(Case c) {
        OpenClBackend backend = OPENCL.backend();
        Random random = new Random(Arrays.hashCode(c.xShape()) * 31L + c.wShape()[c.wShape().length - 1]);
        Tensor x = HalfBound.rounded(gaussian(random, c.xShape()), c.dtype());
        Tensor w = HalfBound.rounded(gaussian(random, c.wShape()), c.dtype());
        Tensor b = HalfBound.rounded(gaussian(random, c.wShape()[c.wShape().length - 1]), c.dtype());
        ConvGeometry g = c.spec().resolve(x.shape(), w.shape()).withStorage(c.dtype());

        ConvPlan mma = backend.plan(g, true, new KernelConfig.Gemm(c.tiling()));
        boolean tensorCores = ComputeCapability.hasTf32TensorCores(backend.device());
        assertTrue(mma.buildOptions().contains("-D MMA=1 -D MMA_PTX=" + (tensorCores ? 1 : 0)), mma.buildOptions());
        assertFalse(mma.buildOptions().contains("TF32"), "16-bit operands need no TF32 rounding: "
                + mma.buildOptions());
        assertEquals("mma " + c.dtype().cliName() + (tensorCores ? " (tensor cores)" : " (emulated)"),
                ForwardVariants.codePath(mma.config(), g, tensorCores).label());
        float[] got = run(backend, mma, g, x, w, b);

        NaiveConv.Result reference = Reference.forward(Tolerance.toDouble(x.data()), x.shape(),
                Tolerance.toDouble(w.data()), w.shape(), Tolerance.toDouble(b.data()), c.spec().strides(),
                c.spec().inputDilation(), c.spec().kernelDilation(), c.spec().padding(), c.spec().groups());
        assertArrayEquals(reference.shape(), g.outputShape(), c.toString());
        int products = w.size() / w.shape()[w.rank() - 1];
        HalfBound.assertWithin(c + " as " + mma.config(), c.dtype(), products, reference, got);

        ConvPlan fma = backend.plan(g, true);
        assertFalse(fma.buildOptions().contains("MMA"), fma.buildOptions());
        float[] fmaGot = run(backend, fma, g, x, w, b);
        HalfBound.assertWithin(c + " as " + fma.config(), c.dtype(), products, reference, fmaGot);
        if (!tensorCores) {
            for (int i = 0; i < got.length; i++) {
                assertEquals(Float.floatToIntBits(fmaGot[i]), Float.floatToIntBits(got[i]), c + ": output " + i
                        + " is " + got[i] + " with mma and " + fmaGot[i] + " with FMAs");
            }
        }
    }

    /** A K tile of 8 is a whole TF32 step but half a 16-bit one: refused by name, and never a candidate. */
    @Test
    void aKTileOfEightIsRefusedForSixteenBitOperands() {
        ConvGeometry g = ConvSpec.defaults().resolve(new int[] {1, 6, 6, 16}, new int[] {3, 3, 16, 8})
                .withStorage(DType.BFLOAT16);
        KernelConfig.Gemm eight = new KernelConfig.Gemm(new Tiling(32, 8, 8, 2, 2, 1, 1, 1, 1, true));
        IllegalArgumentException refusal = assertThrows(IllegalArgumentException.class,
                () -> OPENCL.backend().plan(g, true, eight));
        for (String words : List.of("tileK is 8", "bfloat16", "steps of 16")) {
            assertTrue(refusal.getMessage().contains(words), refusal.getMessage());
        }
        assertFalse(ForwardVariants.fits(eight, g, OPENCL.backend().device()));
        for (KernelConfig candidate : GemmVariant.INSTANCE.candidates(g, OPENCL.backend().device(), true)) {
            Tiling tiling = ((KernelConfig.Gemm) candidate).tiling();
            assertTrue(!tiling.mma() || tiling.tileK() % 16 == 0, candidate.toString());
        }
    }

    /**
     * The probes that prove the 16-bit mma forms before a call may use them: each type has a case for the form this
     * device runs (emulated here) and none for the other; bfloat16's passes, on buffers of the type's bits (one run:
     * float16's differs in its packing only, which the cases above check).
     */
    @Test
    void theSixteenBitMmaProbesPassOnThisDevice() {
        OpenClBackend backend = OPENCL.backend();
        boolean tensorCores = ComputeCapability.hasTf32TensorCores(backend.device());
        for (DType dtype : List.of(DType.FLOAT16, DType.BFLOAT16)) {
            String runs = "mma " + dtype.cliName() + (tensorCores ? " (tensor cores)" : " (emulated)");
            String other = "mma " + dtype.cliName() + (tensorCores ? " (emulated)" : " (tensor cores)");
            CodePath path = path(runs);
            assertTrue(path.provenBeforeUse(), runs);
            ProbeCase probe = ProbeCase.of(path, backend.device()).orElseThrow(() -> new AssertionError(runs
                    + " has no probe case on " + backend.device().describe()));
            assertEquals(dtype, probe.geometry().storage());
            assertTrue(ProbeCase.of(path(other), backend.device()).isEmpty(), other);
            if (dtype == DType.BFLOAT16) {
                ProbeResult result = VariantProbe.run(backend.context(), probe, 0);
                assertEquals(ProbeResult.Outcome.PASSED, result.outcome(), runs + ": " + result.failure());
            }
        }
    }

    private static CodePath path(String label) {
        return ForwardVariants.codePaths().stream().filter(p -> p.label().equals(label)).findFirst()
                .orElseThrow(() -> new AssertionError("no code path " + label));
    }

    /** The plan's output for the rounded operands, on device tensors of the plan's type, decoded. */
    private static float[] run(OpenClBackend backend, ConvPlan plan, ConvGeometry g, Tensor x, Tensor w, Tensor b) {
        DType dtype = g.storage();
        short[] poison = new short[(int) Tensor.elementCount(g.outputShape())];
        Arrays.fill(poison, HalfFloats.encode(dtype, Float.NaN));
        try (DeviceTensor input = DeviceTensor.upload(backend, HalfFloats.encode(dtype, x.data()), dtype, x.shape());
                DeviceTensor weights = DeviceTensor.upload(backend, HalfFloats.encode(dtype, w.data()), dtype,
                        w.shape());
                DeviceTensor bias = DeviceTensor.upload(backend, HalfFloats.encode(dtype, b.data()), dtype, b.shape());
                DeviceTensor output = DeviceTensor.upload(backend, poison, dtype, g.outputShape())) {
            backend.forward(plan, g, input, weights, bias, output);
            return HalfFloats.decode(dtype, output.downloadBits());
        }
    }

    private static Tensor gaussian(Random random, int... shape) {
        float[] values = new float[Math.toIntExact(Tensor.elementCount(shape))];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return Tensor.of(values, shape);
    }
}
