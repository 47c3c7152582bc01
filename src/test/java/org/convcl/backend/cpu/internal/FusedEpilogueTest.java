package org.convcl.backend.cpu.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.convcl.Activation;
import org.convcl.ConvGeometry;
import org.convcl.ConvSpec;
import org.convcl.EdgePadding;
import org.convcl.Epilogue;
import org.convcl.Padding;
import org.convcl.Tensor;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.backend.internal.CpuEdges;
import org.convcl.backend.internal.HostEpilogue;
import org.convcl.testing.NaiveConv;
import org.convcl.testing.NaiveEpilogue;
import org.convcl.testing.Reference;
import org.convcl.testing.Tolerance;
import org.junit.jupiter.api.Test;

/**
 * The Java path's fused store ({@link StoreEpilogue}): on every path a forward call can take (Winograd tiles and
 * phases, the patch matrix multiply, their fallback to the direct way, the vector, depthwise and plain row kernels,
 * the empty sum) and on the
 * fold, with every activation and every combination of scale, shift, residual and bias, over ranks 1 to 3, batch
 * dims and groups, the fused result has exactly the bits of the plain call followed by {@link HostEpilogue#apply},
 * written beside its residual or over it (the in-place residual add), and is within the float64 reference's
 * tolerance ({@link NaiveConv} then {@link NaiveEpilogue}).
 */
class FusedEpilogueTest {
    /** Output channels of one register block: the Winograd paths take multiples of it. */
    private static final int BLOCK = 4 * VectorConvKernel.lanes();
    /**
     * Channels that the vector kernels store as a 4-vector block, a 1-vector block and a scalar tail, each of which
     * applies the epilogue in its own stores.
     */
    private static final int EVERY_STORE = BLOCK + VectorConvKernel.lanes() + 3;

    private record Case(int[] inputShape, int[] kernelShape, ConvSpec spec) {
        ConvGeometry geometry() {
            return spec.resolve(inputShape, kernelShape);
        }
    }

    private static List<Activation> activations() {
        List<Activation> all = new ArrayList<>();
        for (Activation.Kind kind : Activation.Kind.values()) {
            all.add(Activation.of(kind));
        }
        all.add(Activation.leakyRelu(0.2f));
        all.add(Activation.elu(0.5f));
        return all;
    }

    /** Geometries that between them reach every forward path (checked by the test that runs them). */
    private static List<Case> cases() {
        ConvSpec same = ConvSpec.builder().padding(Padding.SAME).build();
        return List.of(
                // Winograd tiles, 1-d to 3-d, two batch dims in 2-d.
                new Case(new int[] {2, 1, 9, 11, 16}, new int[] {3, 3, 16, BLOCK}, same),
                new Case(new int[] {1, 70, 8}, new int[] {3, 8, BLOCK}, same),
                new Case(new int[] {1, 4, 5, 6, 8}, new int[] {3, 3, 3, 8, BLOCK}, same),
                // Winograd phases: stride 2 (too few input channels for the patch matrix multiply), input
                // dilation 2 (in 1-d the phases would not pay: those go to the row kernels).
                new Case(new int[] {2, 10, 9, 8}, new int[] {3, 3, 8, BLOCK},
                        ConvSpec.builder().strides(2, 2).padding(Padding.SAME).build()),
                new Case(new int[] {1, 9, 8, 8}, new int[] {4, 4, 8, BLOCK}, ConvSpec.builder().inputDilation(2, 2)
                        .padding(Padding.pairs(new int[][] {{2, 1}, {2, 1}})).build()),
                // The patch matrix multiply (PatchGemmTasks): stride 2 with 16 input channels, few positions.
                new Case(new int[] {2, 10, 9, 16}, new int[] {3, 3, 16, BLOCK},
                        ConvSpec.builder().strides(2, 2).padding(Padding.SAME).build()),
                // Vector row kernel: few channels, a strided 3-d case, groups, a long 1-d row cut into segments.
                new Case(new int[] {2, 7, 9, 5}, new int[] {2, 3, 5, 6}, same),
                new Case(new int[] {1, 3, 4, 5, 3}, new int[] {2, 2, 2, 3, 5},
                        ConvSpec.builder().strides(1, 2, 1).padding(Padding.CIRCULAR).build()),
                new Case(new int[] {1, 6, 7, 6}, new int[] {3, 3, 3, 8},
                        ConvSpec.builder().groups(2).padding(Padding.REFLECT).build()),
                new Case(new int[] {2, 600, 3}, new int[] {5, 3, 4}, same),
                // Depthwise.
                new Case(new int[] {2, 8, 9, 12}, new int[] {3, 3, 1, 12}, ConvSpec.builder().groups(12)
                        .padding(Padding.SAME).build()),
                new Case(new int[] {1, 300, 4}, new int[] {3, 1, 4}, ConvSpec.builder().groups(4)
                        .kernelDilation(2).padding(Padding.SAME).build()),
                // The empty sum: every output its bias.
                new Case(new int[] {2, 5, 6, 0}, new int[] {3, 3, 0, 4}, same),
                // Last, so that the cases above draw the random values they always have.
                // Each of the vector row kernel's stores, in each of 2 groups, positions repeated at a row's end;
                // then the same through patch panels (few input channels, one group).
                new Case(new int[] {1, 5, 6, 8}, new int[] {2, 2, 4, 2 * EVERY_STORE},
                        ConvSpec.builder().groups(2).padding(Padding.SAME).build()),
                new Case(new int[] {1, 7, 9, 3}, new int[] {3, 3, 3, EVERY_STORE},
                        ConvSpec.builder().strides(2, 2).padding(Padding.SAME).build()),
                // Depthwise stores of 4, 2 and 1 vectors and the scalar tail.
                new Case(new int[] {1, 5, 7, EVERY_STORE + 2 * VectorConvKernel.lanes()},
                        new int[] {3, 3, 1, EVERY_STORE + 2 * VectorConvKernel.lanes()}, ConvSpec.builder()
                                .groups(EVERY_STORE + 2 * VectorConvKernel.lanes()).padding(Padding.SAME).build()));
    }

    /** Which path a forward call of {@code g} takes, in CpuBackend's order. */
    private static String path(ConvGeometry g) {
        if (g.inChannelsPerGroup() == 0) {
            return "empty sum";
        }
        if (PatchGemmTasks.fewPositions(g) && PatchGemmTasks.applies(g)) {
            return "patch GEMM";
        }
        if (WinogradTiles.plan(g, BLOCK) != null) {
            return "Winograd tiles";
        }
        if (WinogradPhases.plan(g, BLOCK) != null) {
            return "Winograd phases";
        }
        if (PatchGemmTasks.applies(g)) {
            return "patch GEMM";
        }
        return CpuKernels.select(new ConvRows(g)).getClass().getSimpleName();
    }

    @Test
    void everyForwardPathFusesAsTheUnfusedStepsAndMatchesTheReference() {
        assertNotNull(CpuKernels.winograd(), "the tests run with the Vector API, so every fast path is in use");
        SplittableRandom random = new SplittableRandom(25);
        List<Activation> activations = activations();
        Set<String> paths = new LinkedHashSet<>();
        int checked = 0;
        for (Case c : cases()) {
            ConvGeometry g = c.geometry();
            paths.add(path(g));
            int cout = g.outChannels();
            float[] x = uniform(random, Tensor.elementCount(c.inputShape()));
            float[] w = uniform(random, Tensor.elementCount(c.kernelShape()));
            float[] bias = uniform(random, cout);
            int outputLength = (int) Tensor.elementCount(g.outputShape());
            NaiveConv.Result withBias = reference(c, g, x, w, bias);
            NaiveConv.Result noBias = reference(c, g, x, w, null);
            for (int a = 0; a < activations.size(); a++) {
                // Every combination of the four optional parts over the activations (none at all among them: the
                // epilogue form of the plain call).
                for (int parts : new int[] {a % 16, 15 - a % 16}) {
                    float[] b = (parts & 1) != 0 ? bias : null;
                    Epilogue<float[]> epilogue = new Epilogue<>(activations.get(a),
                            (parts & 2) != 0 ? uniform(random, cout) : null,
                            (parts & 4) != 0 ? uniform(random, cout) : null,
                            (parts & 8) != 0 ? uniform(random, outputLength) : null);
                    CpuBackend backend = checked % 2 == 0 ? CpuBackend.instance() : CpuBackend.sequential();
                    String what = epilogue + (b == null ? "" : " with bias") + " on " + path(g) + ", " + g;
                    float[] fused = assertFusedIsUnfused(backend, g, x, w, b, epilogue, what);
                    NaiveConv.Result conv = b == null ? noBias : withBias;
                    assertMatchesReference(what, conv, epilogue, cout, g.outputShape(), fused);
                    checked++;
                }
            }
        }
        assertEquals(Set.of("Winograd tiles", "Winograd phases", "patch GEMM", "VectorConvKernel",
                "VectorDepthwiseKernel", "empty sum"), paths, "the cases reach every forward path");
        assertTrue(checked >= cases().size() * activations.size() * 2, "calls checked: " + checked);
    }

    /**
     * Non-finite values: an infinite input makes a Winograd block (of the tiles, of the phases) fail, and its
     * outputs are written from the direct sums after the other blocks have stored their epilogue (written over its
     * residual, the failed block first puts back the residual it stored over); a NaN weight over zero padding is
     * written as NaN after the store; a residual may itself hold NaN or infinities. The fused result still has the
     * unfused steps' bits, and the failed blocks' outputs are the float64 reference's non-finite values.
     */
    @Test
    void nonFiniteValuesFuseAsTheUnfusedSteps() {
        SplittableRandom random = new SplittableRandom(26);
        // The tiles' case above, and the phases on an output large enough for several blocks.
        Case phases = new Case(new int[] {2, 20, 18, 8}, new int[] {3, 3, 8, BLOCK},
                ConvSpec.builder().strides(2, 2).padding(Padding.SAME).build());
        for (Case winograd : List.of(cases().get(0), phases)) {
            ConvGeometry g = winograd.geometry();
            float[] x = uniform(random, Tensor.elementCount(winograd.inputShape()));
            float[] w = uniform(random, Tensor.elementCount(winograd.kernelShape()));
            float[] bias = uniform(random, g.outChannels());
            x[x.length - 5] = Float.POSITIVE_INFINITY;
            WinogradCall call = WinogradCall.prepare(g, new KernelOperand(g, w, new PreparedKernels(0)), bias);
            assertNotNull(call, "Winograd takes " + g);
            float[] scratch = new float[(int) Tensor.elementCount(g.outputShape())];
            boolean anyFails = false;
            boolean anyPasses = false;
            for (int task = 0; task < call.tasks(); task++) {
                boolean finite = call.computeBlock(task, x, bias, scratch);
                anyFails |= !finite;
                anyPasses |= finite;
            }
            assertTrue(anyFails && anyPasses, "some blocks store, one falls back to the direct sums: " + g);
            assertTrue(path(g).startsWith("Winograd"), path(g));
            NaiveConv.Result conv = reference(winograd, g, x, w, bias);
            int nonFinite = 0;
            for (Activation activation : activations()) {
                float[] residual = uniform(random, g.outputSpatialSize() * g.batch() * g.outChannels());
                residual[3] = Float.NaN;
                residual[7] = Float.NEGATIVE_INFINITY;
                Epilogue<float[]> epilogue = new Epilogue<>(activation, uniform(random, g.outChannels()), null,
                        residual);
                String what = activation + " after the Winograd fallback on " + path(g);
                float[] fused = assertFusedIsUnfused(CpuBackend.instance(), g, x, w, bias, epilogue, what);
                // Non-finite where the float64 reference is (the failed blocks, the residual's NaN and -Inf), the
                // same value there; finite elsewhere (the values themselves are the unfused steps' bits, above).
                double[] expected = NaiveEpilogue.apply(activation, conv.values(), g.outChannels(), epilogue.scale(),
                        null, residual, null);
                for (int i = 0; i < expected.length; i++) {
                    if (Double.isFinite(expected[i])) {
                        assertTrue(Float.isFinite(fused[i]), what + ": output " + i + " is " + fused[i]);
                    } else {
                        assertEquals((float) expected[i], fused[i], what + ": output " + i);
                        nonFinite++;
                    }
                }
            }
            // Bounded activations (relu6, sigmoid, ...) map infinities to finite values; the others keep them.
            assertTrue(nonFinite > 10 * activations().size(), "non-finite outputs checked on " + path(g) + ": "
                    + nonFinite);
        }

        Case general = cases().get(5);
        ConvGeometry direct = general.geometry();
        float[] dx = uniform(random, Tensor.elementCount(general.inputShape()));
        float[] dw = uniform(random, Tensor.elementCount(general.kernelShape()));
        dw[0] = Float.NaN; // tap (0, 0) reads SAME padding at the top-left outputs
        int outputLength = (int) Tensor.elementCount(direct.outputShape());
        for (Activation activation : activations()) {
            assertFusedIsUnfused(CpuBackend.instance(), direct, dx, dw, null,
                    new Epilogue<>(activation, null, uniform(random, direct.outChannels()),
                            uniform(random, outputLength)), activation + " with a NaN weight over padding");
        }
    }

    /** The row tasks through each row kernel, the plain loops included (the backend picks them only without the Vector API). */
    @Test
    void everyRowKernelStoresTheEpilogueOfItsSegments() throws Exception {
        SplittableRandom random = new SplittableRandom(27);
        List<Activation> activations = activations();
        int checked = 0;
        for (Case c : cases()) {
            ConvGeometry g = c.geometry();
            if (g.inChannelsPerGroup() == 0) {
                continue;
            }
            ConvRows rows = new ConvRows(g);
            List<RowKernel> kernels = new ArrayList<>(List.of(new ScalarConvKernel(),
                    newKernel("VectorConvKernel")));
            if (DepthwiseKernel.applies(rows)) {
                kernels = List.of(new DepthwiseKernel(), newKernel("VectorDepthwiseKernel"));
            }
            int cout = g.outChannels();
            float[] x = uniform(random, Tensor.elementCount(c.inputShape()));
            float[] w = uniform(random, Tensor.elementCount(c.kernelShape()));
            float[] bias = uniform(random, cout);
            NaiveConv.Result conv = reference(c, g, x, w, bias);
            int outputLength = (int) Tensor.elementCount(g.outputShape());
            for (RowKernel kernel : kernels) {
                // Short segments, so that a row is cut into several and each segment stores its own part.
                RowTasks tasks = RowTasks.preparedNow(rows, kernel, w, 8);
                Activation activation = activations.get(checked % activations.size());
                Epilogue<float[]> epilogue = new Epilogue<>(activation, uniform(random, cout),
                        uniform(random, cout), uniform(random, outputLength));
                float[] unfused = new float[outputLength];
                float[] fused = new float[outputLength];
                Arrays.fill(fused, Float.NaN);
                StoreEpilogue store = StoreEpilogue.of(epilogue, cout, fused);
                for (int task = 0; task < tasks.count(); task++) {
                    tasks.run(task, x, bias, unfused, null);
                    tasks.run(task, x, bias, fused, store);
                }
                HostEpilogue.apply(epilogue, cout, unfused);
                String what = epilogue + " through " + kernel.getClass().getSimpleName() + " on " + g;
                assertArrayEquals(unfused, fused, what);
                assertMatchesReference(what, conv, epilogue, cout, g.outputShape(), fused);
                checked++;
            }
        }
        assertTrue(checked >= 2 * (cases().size() - 1), "kernels checked: " + checked);
    }

    @Test
    void theFoldStoresTheEpilogueOfEachSlice() {
        SplittableRandom random = new SplittableRandom(28);
        int checked = 0;
        for (int[][] shapes : new int[][][] {{{2, 9, 5}, {3, 5, 5}}, {{1, 2, 17, 13, 6}, {4, 4, 6, 6}},
            {{1, 3, 4, 5, 3}, {3, 2, 3, 3, 3}}}) {
            ConvGeometry g = ConvSpec.builder().padding(Padding.CIRCULAR).build().resolve(shapes[0], shapes[1]);
            EdgePadding padding = EdgePadding.ofInput(g);
            int channels = padding.channels();
            float[] padded = uniform(random, (long) padding.batch() * product(padding.paddedSpatial()) * channels);
            int sourceLength = padding.batch() * product(padding.sourceSpatial()) * channels;
            for (Activation activation : activations()) {
                for (boolean withBias : new boolean[] {false, true}) {
                    float[] bias = withBias ? uniform(random, channels) : null;
                    Epilogue<float[]> epilogue = new Epilogue<>(activation, uniform(random, channels),
                            withBias ? null : uniform(random, channels), uniform(random, sourceLength));
                    float[] plain = new float[sourceLength];
                    CpuEdges.fold(padding, padded, bias, plain);
                    float[] unfused = plain.clone();
                    HostEpilogue.apply(epilogue, channels, unfused);
                    float[] fused = new float[sourceLength];
                    Arrays.fill(fused, Float.NaN);
                    CpuBackend.instance().fold(padding, padded, bias, epilogue, fused);
                    String what = epilogue + " on the fold of " + g;
                    assertArrayEquals(unfused, fused, what);
                    // The fold's own sums are checked elsewhere: here the epilogue over them, against float64.
                    double[] sums = Tolerance.toDouble(plain);
                    double[] expected = NaiveEpilogue.apply(activation, sums, channels, epilogue.scale(),
                            epilogue.shift(), epilogue.residual(), null);
                    double[] bound = NaiveEpilogue.errorScale(activation, sums, new double[sums.length], channels,
                            epilogue.scale(), epilogue.shift(), epilogue.residual());
                    Tolerance.assertClose(what, new int[] {sourceLength}, expected, bound, new int[] {sourceLength},
                            fused);
                    checked++;
                }
            }
        }
        assertEquals(3 * activations().size() * 2, checked);
    }

    /**
     * Both store arithmetics, HostEpilogue's staged loops and the Vector API pass this JVM uses
     * ({@link CpuKernels#epilogue()}), give the bits of the element-by-element formula
     * {@code activation.apply(((conv * scale[c]) + shift[c]) + residual)}, at zeros of both signs, NaN, the
     * infinities and the largest floats, for every combination of parts, ranges that start and end mid-position,
     * and channel counts that are not a multiple of the vector length.
     */
    @Test
    void bothStoreArithmeticsHaveTheFormulasBits() {
        float[] special = {0f, -0f, 1f, -1f, Float.MIN_VALUE, -Float.MIN_VALUE, Float.NaN, Float.POSITIVE_INFINITY,
            Float.NEGATIVE_INFINITY, Float.MAX_VALUE, -Float.MAX_VALUE, 0.1f, -0.1f, 6f, 7f, 5.5f, -3f};
        int n = special.length * special.length;
        float[] conv = new float[n];
        float[] residual = new float[n];
        for (int i = 0; i < n; i++) {
            conv[i] = special[i / special.length];
            residual[i] = special[i % special.length];
        }
        List<Activation> activations = List.of(Activation.identity(), Activation.relu(), Activation.relu6(),
                Activation.leakyRelu(0.2f), Activation.elu(0.5f), Activation.gelu(true));
        for (int channels : new int[] {1, 3, special.length, 37}) {
            float[] scale = new float[channels];
            float[] shift = new float[channels];
            for (int c = 0; c < channels; c++) {
                scale[c] = special[(c * 5 + 2) % special.length];
                shift[c] = special[(c * 7 + 3) % special.length];
            }
            for (Activation activation : activations) {
                for (int parts = 0; parts < 8; parts++) {
                    Epilogue<float[]> epilogue = new Epilogue<>(activation, (parts & 1) != 0 ? scale : null,
                            (parts & 2) != 0 ? shift : null, (parts & 4) != 0 ? residual : null);
                    float[] expected = conv.clone();
                    int from = 1;
                    int to = n - 2;
                    for (int i = from; i < to; i++) {
                        float v = conv[i];
                        v = epilogue.scale() == null ? v : v * scale[i % channels];
                        v = epilogue.shift() == null ? v : v + shift[i % channels];
                        v = epilogue.residual() == null ? v : v + residual[i];
                        expected[i] = activation.apply(v);
                    }
                    for (EpilogueKernel kernel : List.<EpilogueKernel>of(HostEpilogue::apply, CpuKernels.epilogue())) {
                        float[] got = conv.clone();
                        kernel.apply(epilogue, channels, got, from, to);
                        for (int i = 0; i < n; i++) {
                            assertEquals(Float.floatToIntBits(expected[i]), Float.floatToIntBits(got[i]),
                                    kernel.getClass().getSimpleName() + " " + epilogue + " channels " + channels
                                            + " at element " + i + " (conv " + conv[i] + ")");
                        }
                    }
                }
            }
        }
    }

    /**
     * HostEpilogue's loops for a residual and/or ReLU alone give the bits of the general formula,
     * {@code activation.apply(conv + residual)}, at zeros of both signs, NaN and the infinities.
     */
    @Test
    void theResidualReluStoreHasTheGeneralFormulasBits() {
        float[] special = {0f, -0f, 1f, -1f, Float.MIN_VALUE, -Float.MIN_VALUE, Float.NaN, Float.POSITIVE_INFINITY,
            Float.NEGATIVE_INFINITY, Float.MAX_VALUE, -Float.MAX_VALUE, 0.1f, -0.1f};
        int n = special.length * special.length;
        float[] conv = new float[n];
        float[] residual = new float[n];
        for (int i = 0; i < n; i++) {
            conv[i] = special[i / special.length];
            residual[i] = special[i % special.length];
        }
        for (Activation activation : List.of(Activation.identity(), Activation.relu())) {
            for (float[] r : Arrays.asList(residual, null)) {
                Epilogue<float[]> epilogue = new Epilogue<>(activation, null, null, r);
                float[] expected = new float[n];
                for (int i = 0; i < n; i++) {
                    expected[i] = activation.apply(r == null ? conv[i] : conv[i] + r[i]);
                }
                float[] got = conv.clone();
                HostEpilogue.apply(epilogue, 3, got, 0, n);
                for (int i = 0; i < n; i++) {
                    assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(got[i]),
                            epilogue + " at " + conv[i] + " + " + (r == null ? 0 : r[i]));
                }
            }
        }
    }

    /** The plain call into {@code unfused}, then {@link HostEpilogue#apply}; the fused call must give the same bits. */
    private static float[] assertFusedIsUnfused(CpuBackend backend, ConvGeometry g, float[] x, float[] w, float[] b,
            Epilogue<float[]> epilogue, String what) {
        int outputLength = (int) Tensor.elementCount(g.outputShape());
        float[] unfused = new float[outputLength];
        backend.forward(g, x, w, b, unfused);
        HostEpilogue.apply(epilogue, g.outChannels(), unfused);
        float[] fused = new float[outputLength];
        Arrays.fill(fused, Float.NaN);
        backend.forward(g, x, w, b, epilogue, fused);
        assertArrayEquals(unfused, fused, what);
        if (epilogue.residual() != null) {
            // The in-place residual add: the output written over the residual's own array. Each route either reads
            // its tasks' parts of the residual before it stores over them or takes a copy of the whole residual.
            float[] over = epilogue.residual().clone();
            backend.forward(g, x, w, b, epilogue.withResidual(over), over);
            assertArrayEquals(unfused, over, what + ", written over its residual");
        }
        return fused;
    }

    private static void assertMatchesReference(String what, NaiveConv.Result conv, Epilogue<float[]> epilogue,
            int channels, int[] outputShape, float[] fused) {
        double[] expected = NaiveEpilogue.apply(epilogue.activation(), conv.values(), channels, epilogue.scale(),
                epilogue.shift(), epilogue.residual(), null);
        double[] bound = NaiveEpilogue.errorScale(epilogue.activation(), conv.values(), conv.absSums(), channels,
                epilogue.scale(), epilogue.shift(), epilogue.residual());
        Tolerance.assertClose(what, conv.shape(), expected, bound, outputShape, fused);
    }

    /** The float64 convolution of a case; the empty sum's is its bias, which NaiveConv need not take. */
    private static NaiveConv.Result reference(Case c, ConvGeometry g, float[] x, float[] w, float[] bias) {
        if (g.inChannelsPerGroup() == 0) {
            int n = (int) Tensor.elementCount(g.outputShape());
            double[] values = new double[n];
            double[] absSums = new double[n];
            for (int i = 0; i < n; i++) {
                values[i] = bias == null ? 0 : bias[i % g.outChannels()];
                absSums[i] = Math.abs(values[i]);
            }
            return new NaiveConv.Result(g.outputShape(), values, absSums);
        }
        return Reference.forward(Tolerance.toDouble(x), c.inputShape(), Tolerance.toDouble(w), c.kernelShape(),
                bias == null ? null : Tolerance.toDouble(bias), g.strides(), g.inputDilation(), g.kernelDilation(),
                c.spec().padding(), g.groups());
    }

    private static RowKernel newKernel(String simpleName) throws ReflectiveOperationException {
        return (RowKernel) Class.forName(FusedEpilogueTest.class.getPackageName() + "." + simpleName)
                .getDeclaredConstructor().newInstance();
    }

    private static int product(int[] sizes) {
        int p = 1;
        for (int s : sizes) {
            p *= s;
        }
        return p;
    }

    private static float[] uniform(SplittableRandom random, long count) {
        float[] values = new float[(int) count];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (random.nextDouble() * 2 - 1);
        }
        return values;
    }
}
