package org.convcl.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.convcl.ConvGeometry;
import org.convcl.ConvSpec;
import org.convcl.Padding;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.opencl.internal.plan.ConvPlan;
import org.convcl.opencl.internal.plan.KernelConfig;
import org.convcl.opencl.internal.plan.Tiling;
import org.convcl.testing.NaiveConv;
import org.convcl.testing.OpenClBackendPerClass;
import org.convcl.testing.Reference;
import org.convcl.testing.Tolerance;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Randomised configurations (ranks 1 to 4, every knob, groups, every edge mode, empty outputs) on which the
 * OpenCL kernels, the Java path and the float64 reference agree within float32 rounding: every element
 * within {@code 1e-5 * sum |x * w|} of the reference, on both backends. Seeds are fixed, so a failure
 * names a reproducible case.
 */
class RandomizedOpenClTest {
    private static final int CASES = 36;
    @RegisterExtension
    static final OpenClBackendPerClass OPENCL = new OpenClBackendPerClass();

    /** One random configuration with its data. */
    record Case(long seed, int[] xShape, int[] wShape, ConvSpec spec, float[] x, float[] w, float[] bias) {
        @Override
        public String toString() {
            return "seed " + seed + ": x" + Arrays.toString(xShape) + " w" + Arrays.toString(wShape) + " " + spec
                    + (bias == null ? " no bias" : " bias");
        }
    }

    static Stream<Case> cases() {
        List<Case> cases = new ArrayList<>();
        for (long seed = 1; cases.size() < CASES; seed++) {
            Case c = randomCase(seed);
            if (c != null) {
                cases.add(c);
            }
        }
        return cases.stream();
    }

    /** A random valid configuration, or null when the draw is one the library refuses. */
    static Case randomCase(long seed) {
        // Nearby seeds give correlated first draws from java.util.Random: spread them first.
        Random random = new Random(seed * 0x9E3779B97F4A7C15L + 0x632BE59BD9B4E019L);
        int rank = 1 + (int) (seed % 4);
        int groups = new int[] {1, 1, 2, 3}[random.nextInt(4)];
        int cin = groups * (1 + random.nextInt(rank >= 3 ? 2 : 4));
        int cout = groups * (1 + random.nextInt(rank >= 3 ? 3 : 6));
        int batchDims = random.nextInt(3);
        int[] batch = new int[batchDims];
        for (int i = 0; i < batchDims; i++) {
            batch[i] = 1 + random.nextInt(2);
        }
        int maxSize = rank == 1 ? 12 : rank == 2 ? 8 : 5;
        int[] spatial = new int[rank];
        int[] k = new int[rank];
        int[] strides = new int[rank];
        int[] inputDilation = new int[rank];
        int[] kernelDilation = new int[rank];
        for (int d = 0; d < rank; d++) {
            spatial[d] = 1 + random.nextInt(maxSize);
            k[d] = 1 + random.nextInt(rank >= 3 ? 3 : 4);
            strides[d] = 1 + random.nextInt(3);
            kernelDilation[d] = 1 + random.nextInt(2);
        }
        Padding padding;
        int mode = random.nextInt(8);
        if (mode < 4) {
            padding = new Padding[] {Padding.SAME, Padding.VALID, Padding.CIRCULAR, Padding.REFLECT}[mode];
            Arrays.fill(inputDilation, 1);
        } else if (mode == 4 && rank == 1) {
            padding = Padding.CAUSAL;
            Arrays.fill(inputDilation, 1);
        } else {
            int[] lo = new int[rank];
            int[] hi = new int[rank];
            for (int d = 0; d < rank; d++) {
                lo[d] = random.nextInt(5) - 1;
                hi[d] = random.nextInt(5) - 2;
                inputDilation[d] = 1 + random.nextInt(3);
            }
            padding = new Padding.Explicit(lo, hi);
        }
        ConvSpec spec = ConvSpec.builder().strides(strides).inputDilation(inputDilation).kernelDilation(kernelDilation)
                .padding(padding).groups(groups).build();
        int[] xShape = concat(batch, spatial, cin);
        int[] wShape = Arrays.copyOf(k, rank + 2);
        wShape[rank] = cin / groups;
        wShape[rank + 1] = cout;
        try {
            spec.resolve(xShape, wShape);
        } catch (IllegalArgumentException refused) {
            return null;
        }
        float[] x = randomValues(random, (int) product(xShape));
        float[] w = randomValues(random, (int) product(wShape));
        float[] bias = random.nextBoolean() ? randomValues(random, cout) : null;
        return new Case(seed, xShape, wShape, spec, x, w, bias);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void openClJavaAndReferenceAgree(Case c) {
        ConvGeometry g = c.spec().resolve(c.xShape(), c.wShape());
        assertBackendsAgree(c, g, null);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void generalKernelAgreesOnEveryRank(Case c) {
        // The any-rank kernel is the GEMM kernel's cross-check on ranks 1 to 3 (and the only one on rank 4).
        ConvGeometry g = c.spec().resolve(c.xShape(), c.wShape());
        if (c.seed() % 3 != 0) {
            return;
        }
        assertBackendsAgree(c, g, new KernelConfig.General(32));
    }

    @Test
    void unusualTilingsAgree() {
        // Tiles that do not divide M, N or K, odd register blocks and a one-item work-group.
        List<Tiling> tilings = List.of(new Tiling(24, 12, 5, 3, 3), new Tiling(8, 4, 3, 8, 4), new Tiling(1, 1, 1, 1, 1),
                new Tiling(64, 64, 16, 8, 8));
        Case c = cases().filter(candidate -> candidate.wShape().length == 4 && candidate.spec().groups() > 1)
                .findFirst().orElseThrow();
        ConvGeometry g = c.spec().resolve(c.xShape(), c.wShape());
        for (Tiling tiling : tilings) {
            try {
                assertBackendsAgree(c, g, new KernelConfig.Gemm(tiling));
            } catch (IllegalArgumentException refused) {
                // A driver may compile the kernel for fewer work-items than this tiling's group (rusticl's
                // llvmpipe: 32 of 64); an explicit tiling is then refused, saying so (PoCL runs them all).
                assertTrue(refused.getMessage().contains("the compiled kernel runs at most")
                        && refused.getMessage().contains("fewer than the " + tiling.workGroupSize() + " it needs"),
                        tiling + ": " + refused.getMessage());
            }
        }
    }

    @Test
    void emptyOutputsAndEmptyBatchesProduceNothing() {
        ConvSpec valid = ConvSpec.builder().padding(Padding.Named.VALID).build();
        ConvGeometry tooShort = valid.resolve(new int[] {2, 3, 4}, new int[] {5, 4, 2});
        assertEquals(0, tooShort.outputSpatialSize());
        float[] output = new float[0];
        OPENCL.backend().forward(tooShort, new float[24], new float[40], null, output);
        ConvGeometry noBatch = valid.resolve(new int[] {0, 6, 4}, new int[] {3, 4, 2});
        OPENCL.backend().forward(noBatch, new float[0], new float[24], new float[2], new float[0]);
        // Input with no channels: every output is its bias.
        ConvGeometry noChannels = ConvSpec.defaults().resolve(new int[] {1, 5, 0}, new int[] {3, 0, 2});
        float[] biasOnly = new float[10];
        OPENCL.backend().forward(noChannels, new float[0], new float[0], new float[] {1.5f, -2f}, biasOnly);
        assertArrayEquals(new float[] {1.5f, -2f, 1.5f, -2f, 1.5f, -2f, 1.5f, -2f, 1.5f, -2f}, biasOnly);
    }

    private static void assertBackendsAgree(Case c, ConvGeometry g, KernelConfig config) {
        NaiveConv.Result reference = Reference.forward(Tolerance.toDouble(c.x()), c.xShape(), Tolerance.toDouble(c.w()),
                c.wShape(), c.bias() == null ? null : Tolerance.toDouble(c.bias()), c.spec().strides(),
                c.spec().inputDilation(), c.spec().kernelDilation(), c.spec().padding(), c.spec().groups());
        float[] java = new float[(int) product(g.outputShape())];
        CpuBackend.instance().forward(g, c.x(), c.w(), c.bias(), java);
        float[] openCl = new float[java.length];
        Arrays.fill(openCl, Float.NaN);
        if (config == null) {
            OPENCL.backend().forward(g, c.x(), c.w(), c.bias(), openCl);
        } else if (java.length > 0) {
            runWithConfig(g, c, config, openCl);
        }
        String what = c + " " + (config == null ? "default config" : config);
        Tolerance.assertClose(what + " java", reference.shape(), reference.values(), reference.absSums(),
                g.outputShape(), java);
        Tolerance.assertClose(what + " opencl", reference.shape(), reference.values(), reference.absSums(),
                g.outputShape(), openCl);
        for (int i = 0; i < java.length; i++) {
            if (Math.abs(java[i] - openCl[i]) > 2 * Tolerance.RELATIVE * reference.absSums()[i] + 1e-30) {
                fail(what + ": element " + i + " java " + java[i] + " vs opencl " + openCl[i]);
            }
        }
    }

    private static void runWithConfig(ConvGeometry g, Case c, KernelConfig config, float[] out) {
        ConvPlan plan = OPENCL.backend().plan(g, c.bias() != null, config);
        try (DeviceTensor x = OPENCL.backend().upload(org.convcl.Tensor.of(c.x(), c.xShape()));
                DeviceTensor w = OPENCL.backend().upload(org.convcl.Tensor.of(c.w(), c.wShape()));
                DeviceTensor b = c.bias() == null ? null
                        : OPENCL.backend().upload(org.convcl.Tensor.of(c.bias(), c.bias().length));
                DeviceTensor y = OPENCL.backend().allocate(g.outputShape())) {
            OPENCL.backend().forward(plan, g, x, w, b, y);
            System.arraycopy(y.download().data(), 0, out, 0, out.length);
        }
    }

    private static float[] randomValues(Random random, int count) {
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = (float) (random.nextGaussian());
        }
        return values;
    }

    private static int[] concat(int[] head, int[] middle, int last) {
        int[] shape = Arrays.copyOf(head, head.length + middle.length + 1);
        System.arraycopy(middle, 0, shape, head.length, middle.length);
        shape[shape.length - 1] = last;
        return shape;
    }

    private static long product(int[] shape) {
        long p = 1;
        for (int s : shape) {
            p *= s;
        }
        return p;
    }
}
