package org.convcl.opencl;

import org.convcl.opencl.device.OpenClDevice;
import java.util.stream.Stream;
import org.convcl.nn.Conv;
import org.convcl.nn.ConvGradients;
import org.convcl.nn.ConvTranspose;
import org.convcl.Layout;
import org.convcl.Tensor;
import org.convcl.opencl.internal.runtime.EmulatedKernelLimit;
import org.convcl.testing.ChannelsFirstData;
import org.convcl.testing.ChannelsFirstGoldenCases;
import org.convcl.testing.ConvTransposeReference;
import org.convcl.testing.GoldenCase;
import org.convcl.testing.GoldenGradients;
import org.convcl.testing.NaiveConv;
import org.convcl.testing.OpenClTesting;
import org.convcl.testing.Reference;
import org.convcl.testing.Tolerance;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every kernel on a driver that compiles kernels for fewer work-items per group than the device allows, as
 * rusticl on llvmpipe does (32 of 1024): emulated on the test driver at 12 items (below the general kernel's 64,
 * the depthwise kernel's 16, every GEMM tiling, the kernel gradient's blockings and the transpose's 16 x 16
 * tile, and not a multiple of PoCL's preferred 8). Each kernel must fit itself to the compiled kernel's limit
 * (the portable kernel runs on any conformant device) and still reproduce flax.
 */
@Timeout(120)
class KernelWorkGroupLimitOpenClTest {
    private static final long LIMIT = 12;

    private static EmulatedKernelLimit limit;
    private static OpenClBackend backend;

    @BeforeAll
    static void openBackendUnderTheLimit() {
        OpenClDevice device = OpenClTesting.device();
        limit = EmulatedKernelLimit.of(LIMIT);
        // A backend of its own, so that no plan made without the limit is reused: its kernel objects are new and
        // report the limit (cached program binaries are fine, the limit is the kernel object's).
        backend = OpenClBackend.create(device);
    }

    @AfterAll
    static void closeBackendAndLiftTheLimit() {
        try {
            if (backend != null) {
                backend.close();
            }
        } finally {
            if (limit != null) {
                limit.close();
            }
        }
    }

    /** One case per forward kernel: general (4-d), depthwise and GEMM, which both fall back to general here. */
    static Stream<GoldenCase> forwardCases() {
        return Stream.of("seed_4_spatial_dims", "depthwise_groups", "pointwise_1x1")
                .map(KernelWorkGroupLimitOpenClTest::golden);
    }

    /** A kernel-gradient blocking of 16 items (27 rows of dW by 4 columns), and the input gradient's convolution. */
    static Stream<GoldenCase> gradientCases() {
        return Stream.of("grad_conv2d_basic")
                .map(KernelWorkGroupLimitOpenClTest::golden);
    }

    static Stream<GoldenCase> transposeCases() {
        return Stream.of("transpose_valid_1d").map(KernelWorkGroupLimitOpenClTest::golden);
    }

    static Stream<GoldenCase> channelsFirstCases() {
        return Stream.of("depthwise_groups").map(KernelWorkGroupLimitOpenClTest::golden);
    }

    private static GoldenCase golden(String name) {
        return GoldenCase.all().stream().filter(c -> c.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalStateException("no golden case " + name));
    }

    private static Conv layer(GoldenCase c) {
        return Conv.builder(c.array("kernel")).bias(c.has("bias") ? c.array("bias") : null).spec(c.spec())
                .backend(backend).build();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("forwardCases")
    void forwardFitsTheCompiledKernelsLimit(GoldenCase c) {
        Tensor y = layer(c).apply(c.array("x"));
        NaiveConv.Result reference = Reference.forward(c);
        Tolerance.assertClose(c.name(), reference.shape(), c.reference("y"), reference.absSums(), y.shape(), y.data());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("gradientCases")
    void gradientsFitTheCompiledKernelsLimit(GoldenCase c) {
        Conv layer = layer(c);
        ConvGradients grads = layer.backward(c.array("x"), c.array("ct"));
        GoldenGradients.assertMatchFlax(c, grads.dx(), grads.dkernel(), grads.dbias());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("transposeCases")
    void convTransposeFitsTheCompiledKernelsLimit(GoldenCase c) {
        ConvTranspose layer = ConvTranspose.builder(c.array("kernel")).bias(c.has("bias") ? c.array("bias") : null)
                .spec(ConvTransposeReference.spec(c)).backend(backend).build();
        Tensor y = layer.apply(c.array("x"));
        double[] bias = c.has("bias") ? Tolerance.toDouble(c.array("bias").data()) : null;
        NaiveConv.Result reference = ConvTransposeReference.of(c).forward(Tolerance.toDouble(c.array("x").data()),
                Tolerance.toDouble(c.array("kernel").data()), bias);
        Tolerance.assertClose(c.name(), reference.shape(), c.reference("y"), reference.absSums(), y.shape(), y.data());
    }

    /** Channels-first device tensors go through the on-device transpose, whose tile must shrink to the limit. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("channelsFirstCases")
    void channelsFirstTransposeFitsTheCompiledKernelsLimit(GoldenCase c) {
        Conv layer = Conv.builder(ChannelsFirstData.permute(c.array("kernel"),
                ChannelsFirstData.convKernelOrder(c.rank()))).bias(c.has("bias") ? c.array("bias") : null)
                .spec(c.spec()).layout(Layout.CHANNELS_FIRST).backend(backend).build();
        Tensor y;
        try (DeviceTensor x = backend.upload(ChannelsFirstData.activations(c.array("x"), c.rank()));
                DeviceTensor result = layer.apply(x)) {
            y = result.download();
        } finally {
            layer.close();
        }
        NaiveConv.Result reference = Reference.forward(c);
        ChannelsFirstGoldenCases.assertActivationClose(c.name(), c.rank(), reference.shape(), c.reference("y"),
                reference.absSums(), y);
    }
}
