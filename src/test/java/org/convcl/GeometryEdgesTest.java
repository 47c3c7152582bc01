package org.convcl;

import org.convcl.nn.ConvTranspose;
import org.convcl.nn.ConvGradients;
import org.convcl.nn.Conv;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.convcl.backend.ConvBackend;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.testing.NaiveConv;
import org.convcl.testing.OpenClTesting;
import org.convcl.testing.SparseConv;
import org.convcl.testing.Tolerance;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The edges of what the validation accepts, per knob (strides, input dilation, kernel dilation, padding): the
 * largest accepted value computes forward, dx, dkernel and dbias right on every backend (against the float64
 * {@link SparseConv}, which never materialises the dilated input), and the first refused one is a clear
 * {@link IllegalArgumentException} naming the parameter, the value and the rule, before any work. The limit is
 * that every coordinate of the forward and of the convolutions it derives (the input gradient's input dilation
 * is the forward stride) fits in an int. Every call runs under a timeout, so a hang fails rather than blocks;
 * the cases include issue 23's reproductions (OpenCL: 2-d inputDilation 46341 on one pixel hung, 2-d strides
 * 65536 gave a wrong dx, 3-d strides 1291 hung and 2048 gave garbage; Java path: inputDilation 2^30 and
 * strides >= 2^30 threw ArrayIndexOutOfBoundsException, strides 2^29 gave dx 0.0).
 */
class GeometryEdgesTest {
    private static final int MAX = Integer.MAX_VALUE;
    /** Generous for a first OpenCL compile; a hang runs past it. */
    private static final Duration TIME_LIMIT = Duration.ofSeconds(60);

    static Stream<ConvBackend> backends() {
        List<ConvBackend> backends = new ArrayList<>();
        backends.add(CpuBackend.instance());
        OpenClTesting.sharedBackendIfAvailable().ifPresent(backends::add);
        return backends.stream();
    }

    /**
     * One zero-padded geometry with one batch element: spatial and kernel sizes, channels, then per-dim
     * strides, input dilation, kernel dilation and explicit (lo, hi) padding.
     */
    private record Edge(String name, int[] spatial, int cin, int[] kernel, int cout, int groups, int[] strides,
            int[] inputDilation, int[] kernelDilation, int[] lo, int[] hi) {

        SparseConv reference() {
            return new SparseConv(1, spatial, cin, kernel, cout, groups, strides, inputDilation, kernelDilation, lo,
                    hi);
        }

        Conv layer(Tensor kernelTensor, Tensor bias, ConvBackend backend) {
            int[][] pairs = new int[spatial.length][];
            for (int d = 0; d < spatial.length; d++) {
                pairs[d] = new int[] {lo[d], hi[d]};
            }
            ConvSpec spec = ConvSpec.builder().strides(strides).inputDilation(inputDilation)
                    .kernelDilation(kernelDilation).padding(Padding.pairs(pairs)).groups(groups).build();
            return Conv.builder(kernelTensor).bias(bias).spec(spec).backend(backend).build();
        }

        int[] inputShape() {
            int[] shape = new int[spatial.length + 2];
            shape[0] = 1;
            System.arraycopy(spatial, 0, shape, 1, spatial.length);
            shape[shape.length - 1] = cin;
            return shape;
        }

        int[] kernelShape() {
            int[] shape = Arrays.copyOf(kernel, kernel.length + 2);
            shape[kernel.length] = cin / groups;
            shape[kernel.length + 1] = cout;
            return shape;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /** An Edge of rank n with every per-dim setting the same: 2 input channels, 3 output channels. */
    private static Edge edge(String name, int rank, int length, int kernel, int stride, int inputDilation,
            int kernelDilation, int lo, int hi) {
        return new Edge(name, filled(rank, length), 2, filled(rank, kernel), 3, 1, filled(rank, stride),
                filled(rank, inputDilation), filled(rank, kernelDilation), filled(rank, lo), filled(rank, hi));
    }

    /** The same, depthwise (2 groups of one input and two output channels): the depthwise kernels' path. */
    private static Edge depthwise(String name, int rank, int length, int kernel, int stride, int inputDilation,
            int kernelDilation, int lo, int hi) {
        return new Edge(name + ", depthwise", filled(rank, length), 2, filled(rank, kernel), 4, 2,
                filled(rank, stride), filled(rank, inputDilation), filled(rank, kernelDilation), filled(rank, lo),
                filled(rank, hi));
    }

    private static int[] filled(int rank, int value) {
        int[] values = new int[rank];
        Arrays.fill(values, value);
        return values;
    }

    /** The largest accepted value of each knob (with the sizes that make it the limit) and the findings. */
    static List<Edge> accepted() {
        return List.of(
                // strides: no value is refused where each dim has one output; the input gradient then has input
                // dilation 2^31 - 1.
                edge("strides MAX, 2-d", 2, 3, 2, MAX, 1, 1, 0, 0),
                // Two outputs over one element padded by s: the forward spans s + 2 positions, its input gradient
                // (dy dilated by the stride, cropped back to the input) 2s + 2.
                edge("strides (MAX - 2) / 2 over two outputs", 1, 1, 1, (MAX - 2) / 2, 1, 1, 0, (MAX - 2) / 2),
                edge("strides 65536, 2-d (finding: OpenCL dx wrong)", 2, 8, 3, 65536, 1, 1, 1, 1),
                edge("strides 1291, 3-d (finding: OpenCL hang)", 3, 5, 3, 1291, 1, 1, 1, 1),
                edge("strides 2048, 3-d (finding: OpenCL garbage)", 3, 5, 3, 2048, 1, 1, 1, 1),
                edge("strides 2^29, 1-d VALID (finding: Java dx 0.0)", 1, 8, 3, 1 << 29, 1, 1, 0, 0),
                edge("strides 2^30, 1-d (finding: Java AIOOBE)", 1, 8, 3, 1 << 30, 1, 1, 1, 1),
                // inputDilation: two elements span D + 1 positions, plus the 1-tap kernel: D <= 2^31 - 3.
                edge("inputDilation MAX - 2, two elements", 1, 2, 1, MAX - 3, MAX - 2, 1, 0, 0),
                edge("inputDilation 2^30, 1-d (finding: Java AIOOBE)", 1, 2, 1, (1 << 30) - 1, 1 << 30, 1, 0, 0),
                // One pixel: any input dilation (nothing to dilate); the 3x3 kernel's padding gives 3x3 outputs.
                edge("inputDilation MAX, one pixel, 2-d", 2, 1, 3, 1, MAX, 1, 2, 2),
                edge("inputDilation 46341, one pixel, 2-d (finding: OpenCL hang)", 2, 1, 3, 1, 46341, 1, 2, 2),
                // kernelDilation: one element padded by K on the right for a 2-tap kernel spans 2K + 2 positions.
                edge("kernelDilation (MAX - 2) / 2", 1, 1, 2, 1, 1, (MAX - 2) / 2, 0, (MAX - 2) / 2),
                // The input gradient binds: two elements dilated by 2^30, a 2-tap kernel dilated by K: the forward
                // spans 2^30 + K + 2, its input gradient 2^30 + 2K + 2.
                edge("kernelDilation 536870910 under inputDilation 2^30", 1, 2, 2, 1 << 30, 1 << 30, 536870910, 0,
                        0),
                // padding: (P, P) around one element spans 2P + 2 positions.
                edge("padding ((MAX - 2) / 2, same)", 1, 1, 1, MAX, 1, 1, (MAX - 2) / 2, (MAX - 2) / 2),
                // The findings' sizes on the depthwise kernels (16-wide output blocks over a few outputs).
                depthwise("strides 65536, 2-d", 2, 8, 3, 65536, 1, 1, 1, 1),
                depthwise("strides 2048, 3-d", 3, 5, 3, 2048, 1, 1, 1, 1),
                depthwise("inputDilation MAX, one pixel, 2-d", 2, 1, 3, 1, MAX, 1, 2, 2),
                depthwise("strides 2^30, 1-d", 1, 8, 3, 1 << 30, 1, 1, 1, 1));
    }

    /** The first refused value of each knob, and what its message must name. */
    static List<Object[]> refused() {
        return List.of(
                new Object[] {edge("strides (MAX - 2) / 2 + 1 over two outputs", 1, 1, 1, (MAX - 2) / 2 + 1, 1, 1, 0,
                        (MAX - 2) / 2 + 1), "the input gradient of strides " + ((MAX - 2) / 2 + 1)},
                new Object[] {edge("inputDilation MAX - 1", 1, 2, 1, MAX - 2, MAX - 1, 1, 0, 0),
                    "inputDilation " + (MAX - 1)},
                new Object[] {edge("kernelDilation (MAX - 2) / 2 + 1", 1, 1, 2, 1, 1, (MAX - 2) / 2 + 1, 0,
                        (MAX - 2) / 2 + 1), "kernelDilation " + ((MAX - 2) / 2 + 1)},
                new Object[] {edge("kernelDilation 536870911 under inputDilation 2^30", 1, 2, 2, 1 << 30, 1 << 30,
                        536870911, 0, 0), "the input gradient of strides " + (1 << 30)},
                new Object[] {edge("padding ((MAX - 2) / 2 + 1, same)", 1, 1, 1, MAX, 1, 1, (MAX - 2) / 2 + 1,
                        (MAX - 2) / 2 + 1), "padding (" + ((MAX - 2) / 2 + 1) + ", " + ((MAX - 2) / 2 + 1) + ")"},
                // The per-dim index tables (one int per output position and tap): 65536 x 32769 > 2^31 - 9 (the
                // kernel gradient's table size wrapped around in an int).
                new Object[] {edge("index tables of 65536 outputs x 32769 taps", 1, 65536, 32769, 1, 1, 1, 16384,
                        16384), "kernel: spatial sizes [32769]"});
    }

    static Stream<Object[]> acceptedOnBackends() {
        return backends().flatMap(backend -> accepted().stream().map(edge -> new Object[] {backend, edge}));
    }

    static Stream<Object[]> refusedOnBackends() {
        return backends().flatMap(backend -> refused().stream()
                .map(refusal -> new Object[] {backend, refusal[0], refusal[1]}));
    }

    @ParameterizedTest(name = "{0}: {1}", autoCloseArguments = false)
    @MethodSource("acceptedOnBackends")
    void largestAcceptedValueComputesForwardAndGradientsRight(ConvBackend backend, Edge edge) {
        SparseConv reference = edge.reference();
        Random random = new Random(edge.name().hashCode());
        double[] x = random.doubles(reference.inputLength(), -1, 1).toArray();
        double[] w = random.doubles(reference.kernelLength(), -1, 1).toArray();
        double[] bias = random.doubles(edge.cout(), -1, 1).toArray();
        double[] dy = random.doubles(reference.outputLength(), -1, 1).toArray();
        Conv layer = edge.layer(Tensor.of(floats(w), edge.kernelShape()), Tensor.of(floats(bias), edge.cout()), backend);
        Tensor input = Tensor.of(floats(x), edge.inputShape());
        int[] outputShape = layer.geometry(edge.inputShape()).outputShape();
        assertTrue(reference.outputLength() > 0, edge + ": an edge case must have outputs");
        assertEquals(reference.outputLength(), (int) Tensor.elementCount(outputShape), edge + ": output size");

        Tensor y = assertTimeoutPreemptively(TIME_LIMIT, () -> layer.apply(input), edge + ": forward hung");
        assertClose(edge + " forward", reference.forward(x, w, bias), y.data());
        ConvGradients grads = assertTimeoutPreemptively(TIME_LIMIT,
                () -> layer.backward(input, Tensor.of(floats(dy), outputShape)), edge + ": backward hung");
        assertClose(edge + " dx", reference.inputGradient(w, dy), grads.dx().data());
        assertClose(edge + " dkernel", reference.kernelGradient(x, dy), grads.dkernel().data());
        assertClose(edge + " dbias", reference.biasGradient(dy), grads.dbias().data());
    }

    @ParameterizedTest(name = "{0}: {1}", autoCloseArguments = false)
    @MethodSource("refusedOnBackends")
    void firstRefusedValueIsAClearRefusalBeforeAnyWork(ConvBackend backend, Edge edge, String named) {
        Conv layer = edge.layer(Tensor.zeros(edge.kernelShape()), null, backend);
        Tensor input = Tensor.zeros(edge.inputShape());
        for (Runnable call : new Runnable[] {() -> layer.apply(input), () -> layer.geometry(edge.inputShape()),
            () -> layer.backward(input, Tensor.zeros(1, 1, 3))}) {
            IllegalArgumentException refusal = assertTimeoutPreemptively(TIME_LIMIT,
                    () -> assertThrows(IllegalArgumentException.class, call::run), edge + ": refusal hung");
            String message = refusal.getMessage();
            assertTrue(message.contains(named), edge + ": the message names the value: " + message);
            assertTrue(message.contains("more than ") && message.contains("refused"),
                    edge + ": the message states the rule: " + message);
        }
    }

    /**
     * ConvTranspose's derived geometry: a convolution with input dilation = the transpose's stride (jax's
     * conv_transpose, kernel as held). Two elements dilated by 2^30 - 1 and cropped to the two positions around
     * the second span 2s + 1 = 2^31 - 1; forward and gradients are those of that convolution.
     */
    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("backends")
    void convTransposeAtTheLargestAcceptedStrideComputesRight(ConvBackend backend) {
        int stride = (1 << 30) - 1;
        SparseConv reference = new SparseConv(1, new int[] {2}, 2, new int[] {1}, 3, 1, new int[] {1},
                new int[] {stride}, new int[] {1}, new int[] {-(stride - 1)}, new int[] {0});
        Random random = new Random(23);
        double[] x = random.doubles(reference.inputLength(), -1, 1).toArray();
        double[] w = random.doubles(reference.kernelLength(), -1, 1).toArray();
        double[] dy = random.doubles(reference.outputLength(), -1, 1).toArray();
        ConvTranspose layer = ConvTranspose.builder(Tensor.of(floats(w), 1, 2, 3))
                .spec(ConvTransposeSpec.builder().strides(stride)
                        .padding(Padding.pairs(new int[] {-(stride - 1), 0})).build())
                .backend(backend).build();
        Tensor input = Tensor.of(floats(x), 1, 2, 2);
        Tensor y = assertTimeoutPreemptively(TIME_LIMIT, () -> layer.apply(input), "ConvTranspose forward hung");
        assertEquals(List.of(1, 2, 3), Arrays.stream(y.shape()).boxed().toList());
        assertClose("ConvTranspose forward", reference.forward(x, w, null), y.data());
        ConvGradients grads = assertTimeoutPreemptively(TIME_LIMIT,
                () -> layer.backward(input, Tensor.of(floats(dy), 1, 2, 3)), "ConvTranspose backward hung");
        assertClose("ConvTranspose dx", reference.inputGradient(w, dy), grads.dx().data());
        assertClose("ConvTranspose dkernel", reference.kernelGradient(x, dy), grads.dkernel().data());
    }

    /**
     * ConvTranspose's string paddings and CIRCULAR's wrap period are derived from the kernel extent and the stride:
     * they are computed in longs and sizes beyond an int refused by name (the extent wrapped around in an int). A
     * CIRCULAR period beyond an int (it threw ArithmeticException) is refused by the span rule before the fold.
     */
    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("backends")
    void convTransposeDerivedPaddingsBeyondAnIntAreRefused(ConvBackend backend) {
        ConvTranspose same = ConvTranspose.builder(Tensor.zeros(3, 1, 1))
                .spec(ConvTransposeSpec.builder().kernelDilation(MAX).padding(Padding.SAME).build())
                .backend(backend).build();
        IllegalArgumentException refusal = assertThrows(IllegalArgumentException.class,
                () -> same.apply(Tensor.zeros(1, 1, 1)));
        // jax's SAME transpose padding for the extent 2 * (2^31 - 1) + 1: (ke + s - 2) split evenly. The extent
        // wrapped around to -1 in an int, and the refusal named a padding of (-2, 0).
        assertTrue(refusal.getMessage().contains("padding (" + MAX + ", " + MAX + ")")
                && refusal.getMessage().contains("kernelDilation " + MAX) && refusal.getMessage().contains("refused"),
                refusal.getMessage());
        ConvTranspose circular = ConvTranspose.builder(Tensor.zeros(1, 1, 1))
                .spec(ConvTransposeSpec.builder().strides(1 << 30).padding(Padding.CIRCULAR).build())
                .backend(backend).build();
        refusal = assertThrows(IllegalArgumentException.class, () -> circular.apply(Tensor.zeros(1, 3, 1)));
        assertTrue(refusal.getMessage().contains(String.valueOf(1 << 30)) && refusal.getMessage().contains("refused"),
                refusal.getMessage());
    }

    /**
     * REFLECT folds coordinates modulo {@code 2 * (L - 1)} in ints: the longest dim it mirrors is 2^30, and a longer
     * one is refused by name (its period wrapped around). Shapes only: no 4 GiB input is made.
     */
    @Test
    void reflectPaddingOfTheLongestDimResolvesAndALongerOneIsRefused() {
        // A 1-tap kernel: mirrored all the same, and its index tables (a tap per position) fit.
        Conv layer = Conv.builder(Tensor.zeros(1, 1, 1)).spec(ConvSpec.builder().padding(Padding.REFLECT).build())
                .backend(CpuBackend.instance()).build();
        assertEquals(1 << 30, layer.geometry(new int[] {1 << 30, 1}).outSpatial()[0]);
        IllegalArgumentException refusal = assertThrows(IllegalArgumentException.class,
                () -> layer.geometry(new int[] {(1 << 30) + 1, 1}));
        assertTrue(refusal.getMessage().startsWith("padding: REFLECT") && refusal.getMessage().contains("length "
                + ((1 << 30) + 1)) && refusal.getMessage().contains("refused"), refusal.getMessage());
    }

    /** The sparse reference itself: the naive one's forward on small cases, and both gradients its adjoints. */
    @Test
    void sparseReferenceAgreesWithTheNaiveOneAndItsAdjointIdentities() {
        Random random = new Random(11);
        for (int trial = 0; trial < 40; trial++) {
            int rank = 1 + random.nextInt(2);
            int[] spatial = new int[rank];
            int[] kernel = new int[rank];
            int[] strides = new int[rank];
            int[] inputDilation = new int[rank];
            int[] kernelDilation = new int[rank];
            int[] lo = new int[rank];
            int[] hi = new int[rank];
            for (int d = 0; d < rank; d++) {
                spatial[d] = 1 + random.nextInt(5);
                kernel[d] = 1 + random.nextInt(3);
                strides[d] = 1 + random.nextInt(3);
                inputDilation[d] = 1 + random.nextInt(3);
                kernelDilation[d] = 1 + random.nextInt(3);
                lo[d] = random.nextInt(5) - 1;
                hi[d] = random.nextInt(5) - 1;
            }
            SparseConv sparse = new SparseConv(2, spatial, 2, kernel, 3, 1, strides, inputDilation, kernelDilation,
                    lo, hi);
            if (sparse.outputLength() == 0) {
                continue;
            }
            double[] x = random.doubles(sparse.inputLength(), -1, 1).toArray();
            double[] w = random.doubles(sparse.kernelLength(), -1, 1).toArray();
            double[] dy = random.doubles(sparse.outputLength(), -1, 1).toArray();
            int[] xShape = new int[rank + 2];
            xShape[0] = 2;
            System.arraycopy(spatial, 0, xShape, 1, rank);
            xShape[rank + 1] = 2;
            int[] wShape = Arrays.copyOf(kernel, rank + 2);
            wShape[rank] = 2;
            wShape[rank + 1] = 3;
            NaiveConv.Result naive = NaiveConv.conv(x, xShape, w, wShape, null, strides, inputDilation,
                    kernelDilation, null, lo, hi, 1);
            double[] y = sparse.forward(x, w, null).values();
            String what = "trial " + trial;
            assertEquals(naive.values().length, y.length, what);
            for (int i = 0; i < y.length; i++) {
                assertEquals(naive.values()[i], y[i], 1e-12, what + " forward " + i);
            }
            // <conv(x, w), dy> = <x, dx> = <w, dw>: both gradients are the forward's adjoints.
            double output = dot(y, dy);
            assertEquals(output, dot(x, sparse.inputGradient(w, dy).values()), 1e-9, what + " dx");
            assertEquals(output, dot(w, sparse.kernelGradient(x, dy).values()), 1e-9, what + " dkernel");
        }
    }

    private static void assertClose(String what, SparseConv.Result expected, float[] actual) {
        assertEquals(expected.values().length, actual.length, what + ": element count");
        for (int i = 0; i < actual.length; i++) {
            double error = Math.abs(actual[i] - expected.values()[i]);
            double bound = Tolerance.RELATIVE * expected.absSums()[i] + 1e-30;
            if (!(error <= bound)) {
                fail(what + ": element " + i + " is " + actual[i] + ", expected " + expected.values()[i] + " (error "
                        + error + " > bound " + bound + ")");
            }
        }
    }

    private static double dot(double[] a, double[] b) {
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            sum += a[i] * b[i];
        }
        return sum;
    }

    private static float[] floats(double[] values) {
        float[] result = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            result[i] = (float) values[i];
        }
        return result;
    }
}
