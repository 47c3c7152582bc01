package org.convcl.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.convcl.nn.Conv;
import org.convcl.nn.ConvGradients;
import org.convcl.nn.ConvTranspose;
import org.convcl.Layout;
import org.convcl.Tensor;
import org.convcl.backend.ConvBackend;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every golden case through {@code Layout.CHANNELS_FIRST} layers on one backend (a subclass names it): the
 * case's input, kernel and cotangent moved to channels-first by {@link ChannelsFirstData}, and the layer's results
 * compared with flax's references moved likewise, by the golden suite's rules. Forward Conv cases, refusals (still
 * refused), gradient cases (dx, dkernel, dbias against flax's) and every ConvTranspose case (the output against
 * flax's; the suite has no transposed gradients, so those must be the channels-last layer's gradients, moved: the
 * layer computes channels-last inside, on the same values, so bit for bit).
 */
public abstract class ChannelsFirstGoldenCases {
    /** The float64 scales of the gradient cases, computed once per JVM (they cost a reference run per element). */
    private static final Map<String, double[][]> GRADIENT_SCALES = new ConcurrentHashMap<>();

    /** The backend the layers run on. */
    protected abstract ConvBackend backend();

    public static Stream<GoldenCase> convCases() {
        return GoldenCase.ofOp("conv").stream().filter(c -> c.error() == null);
    }

    public static Stream<GoldenCase> refusedCases() {
        return GoldenCase.ofOp("conv").stream().filter(c -> c.error() != null);
    }

    public static Stream<GoldenCase> gradientCases() {
        return GoldenCase.all().stream().filter(GoldenCase::grads);
    }

    public static Stream<GoldenCase> transposeCases() {
        return GoldenCase.ofOp("conv_transpose").stream().filter(c -> c.error() == null);
    }

    /** The case's Conv, channels-first: kernel {@code (Cout, Cin/groups, *k)}. */
    protected static Conv conv(GoldenCase c, ConvBackend backend) {
        return Conv.builder(ChannelsFirstData.permute(c.array("kernel"), ChannelsFirstData.convKernelOrder(c.rank())))
                .bias(c.has("bias") ? c.array("bias") : null).spec(c.spec()).layout(Layout.CHANNELS_FIRST)
                .backend(backend).build();
    }

    /** The case's ConvTranspose, channels-first: kernel PyTorch's {@code (Cin, Cout, *k)}. */
    protected static ConvTranspose convTranspose(GoldenCase c, ConvBackend backend, Layout layout) {
        Tensor kernel = c.array("kernel");
        if (layout == Layout.CHANNELS_FIRST) {
            kernel = ChannelsFirstData.permute(kernel,
                    ChannelsFirstData.transposeKernelOrder(c.rank(), c.transposeKernel()));
        }
        return ConvTranspose.builder(kernel).bias(c.has("bias") ? c.array("bias") : null)
                .spec(ConvTransposeReference.spec(c)).layout(layout).backend(backend).build();
    }

    /** The case's named activation ({@code x}, {@code ct}), channels-first. */
    protected static Tensor channelsFirst(GoldenCase c, String array) {
        return ChannelsFirstData.activations(c.array(array), c.rank());
    }

    /** A random cotangent for a ConvTranspose case's output, channels-last. */
    protected static Tensor transposeCotangent(GoldenCase c) {
        return RandomTensors.uniform(new SplittableRandom(c.name().hashCode()), c.array("y").shape());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("convCases")
    public void convReproducesFlax(GoldenCase c) {
        Tensor y = conv(c, backend()).apply(channelsFirst(c, "x"));
        NaiveConv.Result reference = Reference.forward(c);
        assertActivationClose(c.name(), c.rank(), reference.shape(), c.reference("y"), reference.absSums(), y);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("refusedCases")
    public void refusesWhatFlaxRefuses(GoldenCase c) {
        Tensor kernel = Tensor.zeros(c.flaxKernelShape());
        IllegalArgumentException channelsLast = assertThrows(IllegalArgumentException.class, () -> Conv
                .builder(kernel).spec(c.spec()).backend(backend()).build().apply(c.array("x")));
        IllegalArgumentException channelsFirst = assertThrows(IllegalArgumentException.class, () -> Conv
                .builder(ChannelsFirstData.permute(kernel, ChannelsFirstData.convKernelOrder(c.rank())))
                .spec(c.spec()).layout(Layout.CHANNELS_FIRST).backend(backend()).build()
                .apply(channelsFirst(c, "x")));
        // The same refusal, in the user's terms: word for word, or naming the layout where shapes are involved.
        assertTrue(channelsFirst.getMessage().equals(channelsLast.getMessage())
                || channelsFirst.getMessage().contains("channels-first"),
                "channels-first: " + channelsFirst.getMessage() + "; channels-last: " + channelsLast.getMessage());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("gradientCases")
    public void convGradientsReproduceFlax(GoldenCase c) {
        assertGradientsMatchFlax(c, conv(c, backend()).backward(channelsFirst(c, "x"), channelsFirst(c, "ct")));
    }

    /**
     * Channels-first gradients of a gradient case (dx like the channels-first input, dkernel {@code (Cout,
     * Cin/groups, *k)}) against flax's, moved, by {@link GoldenGradients}'s rules.
     */
    public static void assertGradientsMatchFlax(GoldenCase c, ConvGradients grads) {
        double[][] scales = GRADIENT_SCALES.computeIfAbsent(c.name(), name -> gradientScales(c));
        int[] xShape = c.array("x").shape();
        int[] order = ChannelsFirstData.activationOrder(xShape.length, c.rank());
        assertArrayEquals(ChannelsFirstData.permuteShape(xShape, order), grads.dx().shape(), c.name() + " dx shape");
        GradientCheck.assertClose(c.name() + " dx", ChannelsFirstData.permute(c.reference("dx"), xShape, order),
                ChannelsFirstData.permute(scales[0], xShape, order), grads.dx().data());
        int[] kernelShape = c.array("kernel").shape();
        int[] kernelOrder = ChannelsFirstData.convKernelOrder(c.rank());
        assertArrayEquals(ChannelsFirstData.permuteShape(kernelShape, kernelOrder), grads.dkernel().shape(),
                c.name() + " dkernel shape");
        GradientCheck.assertClose(c.name() + " dkernel",
                ChannelsFirstData.permute(c.reference("dkernel"), kernelShape, kernelOrder),
                ChannelsFirstData.permute(scales[1], kernelShape, kernelOrder), grads.dkernel().data());
        if (c.has("bias")) {
            assertNotNull(grads.dbias(), c.name() + ": a layer with bias has a bias gradient");
            GradientCheck.assertClose(c.name() + " dbias", c.reference("dbias"), scales[2], grads.dbias().data());
        } else {
            assertNull(grads.dbias(), c.name() + ": a layer without bias has no bias gradient");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("transposeCases")
    public void convTransposeReproducesFlax(GoldenCase c) {
        Tensor y = convTranspose(c, backend(), Layout.CHANNELS_FIRST).apply(channelsFirst(c, "x"));
        double[] bias = c.has("bias") ? Tolerance.toDouble(c.array("bias").data()) : null;
        NaiveConv.Result reference = ConvTransposeReference.of(c).forward(Tolerance.toDouble(c.array("x").data()),
                Tolerance.toDouble(c.array("kernel").data()), bias);
        assertActivationClose(c.name(), c.rank(), reference.shape(), c.reference("y"), reference.absSums(), y);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("transposeCases")
    public void convTransposeGradientsAreTheChannelsLastOnesMoved(GoldenCase c) {
        Tensor ct = transposeCotangent(c);
        ConvGradients channelsLast = convTranspose(c, backend(), Layout.CHANNELS_LAST).backward(c.array("x"), ct);
        ConvGradients channelsFirst = convTranspose(c, backend(), Layout.CHANNELS_FIRST)
                .backward(channelsFirst(c, "x"), ChannelsFirstData.activations(ct, c.rank()));
        assertSameBits(c.name() + " dx", ChannelsFirstData.activations(channelsLast.dx(), c.rank()),
                channelsFirst.dx());
        assertSameBits(c.name() + " dkernel", ChannelsFirstData.permute(channelsLast.dkernel(),
                ChannelsFirstData.transposeKernelOrder(c.rank(), c.transposeKernel())), channelsFirst.dkernel());
        if (c.has("bias")) {
            assertSameBits(c.name() + " dbias", channelsLast.dbias(), channelsFirst.dbias());
        }
    }

    /** {@code actual} (channels-first) against flax's channels-last {@code expected} of {@code shape}, moved. */
    public static void assertActivationClose(String what, int spatialDims, int[] shape, double[] expected,
            double[] scale, Tensor actual) {
        int[] order = ChannelsFirstData.activationOrder(shape.length, spatialDims);
        Tolerance.assertClose(what, ChannelsFirstData.permuteShape(shape, order),
                ChannelsFirstData.permute(expected, shape, order), ChannelsFirstData.permute(scale, shape, order),
                actual.shape(), actual.data());
    }

    protected static void assertSameBits(String what, Tensor expected, Tensor actual) {
        assertArrayEquals(expected.shape(), actual.shape(), what + " shape");
        assertArrayEquals(expected.data(), actual.data(), what);
    }

    /** dx's, dkernel's and dbias's float64 scales of a gradient case, channels-last (as {@link GoldenGradients}). */
    private static double[][] gradientScales(GoldenCase c) {
        ConvReference f = ConvReference.of(c);
        double[] dy = Tolerance.toDouble(c.array("ct").data());
        Tensor kernel = c.array("kernel");
        double[] dbiasScale = new double[kernel.dim(kernel.rank() - 1)];
        for (int i = 0; i < dy.length; i++) {
            dbiasScale[i % dbiasScale.length] += Math.abs(dy[i]);
        }
        return new double[][] {GradientCheck.inputScale(f, Tolerance.toDouble(kernel.data()), dy),
            GradientCheck.kernelScale(f, Tolerance.toDouble(c.array("x").data()), dy), dbiasScale};
    }
}
