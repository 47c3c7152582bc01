package org.convcl.nn;

import org.convcl.Tensor;
import org.convcl.Padding;
import org.convcl.Layout;
import org.convcl.ConvTransposeSpec;
import org.convcl.ConvSpec;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.convcl.backend.ConvBackend;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.testing.ChannelsFirstData;
import org.convcl.testing.OpenClTesting;
import org.convcl.testing.RandomTensors;
import org.convcl.testing.Tolerance;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code Layout.CHANNELS_FIRST} beyond the golden suite: PyTorch's ConvTranspose arithmetic against a float64
 * scatter written from PyTorch's definition, masks, shapes and the refusals that name the layout; on the Java
 * backend and, where there is a device, on OpenCL.
 */
class ChannelsFirstTest {

    /** The Java path, and OpenCL's shared backend when there is a device (shared: never closed by the tests). */
    static Stream<ConvBackend> backends() {
        Stream<ConvBackend> openCl = OpenClTesting.deviceIfAny().stream().map(Backends::openClBackend);
        return Stream.concat(Stream.of(CpuBackend.instance()), openCl);
    }

    static Stream<Arguments> backendsAndSeeds() {
        return backends().flatMap(backend -> IntStream.range(0, 12).mapToObj(seed -> Arguments.of(backend, seed)));
    }

    /**
     * PyTorch's {@code ConvTranspose} with weight {@code W (Cin, Cout, *k)}, padding p and output_padding op is
     * the channels-first layer with transposeKernel and explicit padding {@code (dk * (k - 1) - p,
     * dk * (k - 1) - p + op)}: checked against {@code y[b, co, i * s - p + t * dk] += x[b, ci, i] * W[ci, co, t]}.
     */
    @ParameterizedTest(name = "{0} seed {1}", autoCloseArguments = false)
    @MethodSource("backendsAndSeeds")
    void transposeKernelIsPyTorchsConvTranspose(ConvBackend backend, int seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int rank = 1 + seed % 3;
        int batchDims = seed % 3;
        int[] batch = IntStream.range(0, batchDims).map(d -> 1 + random.nextInt(2)).toArray();
        int in = 1 + random.nextInt(3);
        int out = 1 + random.nextInt(3);
        int[] length = new int[rank];
        int[] size = new int[rank];
        int[] stride = new int[rank];
        int[] dilation = new int[rank];
        int[] pad = new int[rank];
        int[] outputPad = new int[rank];
        int[] lo = new int[rank];
        int[] hi = new int[rank];
        for (int d = 0; d < rank; d++) {
            length[d] = 1 + random.nextInt(5);
            size[d] = 1 + random.nextInt(3);
            stride[d] = 1 + random.nextInt(3);
            dilation[d] = 1 + random.nextInt(2);
            pad[d] = random.nextInt(dilation[d] * (size[d] - 1) / 2 + 1);
            outputPad[d] = random.nextInt(Math.max(stride[d], dilation[d]));
            lo[d] = dilation[d] * (size[d] - 1) - pad[d];
            hi[d] = lo[d] + outputPad[d];
        }
        int[] xShape = concat(batch, new int[] {in}, length);
        Tensor x = RandomTensors.uniform(random, xShape);
        Tensor weight = RandomTensors.uniform(random, concat(new int[] {in, out}, size));
        Tensor bias = RandomTensors.uniform(random, out);

        ConvTranspose layer = ConvTranspose.builder(weight).bias(bias).layout(Layout.CHANNELS_FIRST)
                .spec(ConvTransposeSpec.builder().strides(stride).kernelDilation(dilation)
                        .padding(new Padding.Explicit(lo, hi)).transposeKernel(true).build())
                .backend(backend).build();
        Tensor y = layer.apply(x);

        int batchCount = Arrays.stream(batch).reduce(1, (a, b) -> a * b);
        int[] outLength = new int[rank];
        for (int d = 0; d < rank; d++) {
            outLength[d] = (length[d] - 1) * stride[d] - 2 * pad[d] + dilation[d] * (size[d] - 1) + outputPad[d] + 1;
        }
        int outPixels = Arrays.stream(outLength).reduce(1, (a, b) -> a * b);
        int inPixels = Arrays.stream(length).reduce(1, (a, b) -> a * b);
        int taps = Arrays.stream(size).reduce(1, (a, b) -> a * b);
        double[] expected = new double[batchCount * out * outPixels];
        double[] scale = new double[expected.length];
        for (int b = 0; b < batchCount; b++) {
            for (int co = 0; co < out; co++) {
                for (int p = 0; p < outPixels; p++) {
                    expected[(b * out + co) * outPixels + p] = bias.data()[co];
                    scale[(b * out + co) * outPixels + p] = Math.abs(bias.data()[co]);
                }
            }
        }
        for (int b = 0; b < batchCount; b++) {
            for (int ci = 0; ci < in; ci++) {
                for (int i = 0; i < inPixels; i++) {
                    for (int t = 0; t < taps; t++) {
                        int target = 0;
                        boolean inside = true;
                        for (int d = 0, iRest = i, tRest = t; d < rank; d++) {
                            int iStride = Arrays.stream(length, d + 1, rank).reduce(1, (a, c) -> a * c);
                            int tStride = Arrays.stream(size, d + 1, rank).reduce(1, (a, c) -> a * c);
                            int position = (iRest / iStride) * stride[d] - pad[d] + (tRest / tStride) * dilation[d];
                            iRest %= iStride;
                            tRest %= tStride;
                            inside &= position >= 0 && position < outLength[d];
                            target = target * outLength[d] + position;
                        }
                        if (!inside) {
                            continue;
                        }
                        for (int co = 0; co < out; co++) {
                            double term = (double) x.data()[(b * in + ci) * inPixels + i]
                                    * weight.data()[(ci * out + co) * taps + t];
                            expected[(b * out + co) * outPixels + target] += term;
                            scale[(b * out + co) * outPixels + target] += Math.abs(term);
                        }
                    }
                }
            }
        }
        Tolerance.assertClose("seed " + seed, concat(batch, new int[] {out}, outLength), expected, scale, y.shape(),
                y.data());
    }

    /** A mask is in the kernel's layout; the layer masks as the channels-last layer does, and masks dkernel. */
    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("backends")
    void convWithMaskIsTheChannelsLastLayerMoved(ConvBackend backend) {
        SplittableRandom random = new SplittableRandom(11);
        Tensor kernel = RandomTensors.uniform(random, 3, 2, 2, 6);
        Tensor mask = RandomTensors.uniform(random, 3, 2, 2, 6);
        Tensor bias = RandomTensors.uniform(random, 6);
        Tensor x = RandomTensors.uniform(random, 2, 7, 5, 4);
        ConvSpec spec = ConvSpec.builder().groups(2).strides(2, 1).padding(Padding.REFLECT).build();
        Conv last = Conv.builder(kernel).mask(mask).bias(bias).spec(spec).backend(backend).build();
        int[] kernelOrder = ChannelsFirstData.convKernelOrder(2);
        Conv first = Conv.builder(ChannelsFirstData.permute(kernel, kernelOrder))
                .mask(ChannelsFirstData.permute(mask, kernelOrder)).bias(bias).spec(spec)
                .layout(Layout.CHANNELS_FIRST).backend(backend).build();

        Tensor y = last.apply(x);
        Tensor dy = RandomTensors.uniform(random, y.shape());
        ConvGradients grads = last.backward(x, dy);
        Tensor yFirst = first.apply(ChannelsFirstData.activations(x, 2));
        ConvGradients gradsFirst = first.backward(ChannelsFirstData.activations(x, 2),
                ChannelsFirstData.activations(dy, 2));

        assertSame("y", ChannelsFirstData.activations(y, 2), yFirst);
        assertSame("dx", ChannelsFirstData.activations(grads.dx(), 2), gradsFirst.dx());
        assertSame("dkernel", ChannelsFirstData.permute(grads.dkernel(), kernelOrder), gradsFirst.dkernel());
        assertSame("dbias", grads.dbias(), gradsFirst.dbias());
        assertArrayEquals(ChannelsFirstData.activations(y, 2).shape(), first.outputShape(2, 4, 7, 5));
        assertEquals(Layout.CHANNELS_FIRST, first.layout());
        assertEquals(Layout.CHANNELS_LAST, last.layout());
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("backends")
    void convTransposeWithMaskIsTheChannelsLastLayerMoved(ConvBackend backend) {
        SplittableRandom random = new SplittableRandom(12);
        for (boolean transposeKernel : new boolean[] {false, true}) {
            Tensor kernel = RandomTensors.uniform(random, 3, 4, 3, 5);
            Tensor mask = RandomTensors.uniform(random, 3, 4, 3, 5);
            Tensor x = RandomTensors.uniform(random, 2, 5, 4, transposeKernel ? 5 : 3);
            ConvTransposeSpec spec = ConvTransposeSpec.builder().strides(2).padding(Padding.CIRCULAR)
                    .transposeKernel(transposeKernel).build();
            ConvTranspose last = ConvTranspose.builder(kernel).mask(mask).spec(spec).backend(backend).build();
            int[] kernelOrder = ChannelsFirstData.transposeKernelOrder(2, transposeKernel);
            ConvTranspose first = ConvTranspose.builder(ChannelsFirstData.permute(kernel, kernelOrder))
                    .mask(ChannelsFirstData.permute(mask, kernelOrder)).spec(spec).layout(Layout.CHANNELS_FIRST)
                    .backend(backend).build();

            Tensor y = last.apply(x);
            Tensor dy = RandomTensors.uniform(random, y.shape());
            ConvGradients grads = last.backward(x, dy);
            Tensor yFirst = first.apply(ChannelsFirstData.activations(x, 2));
            ConvGradients gradsFirst = first.backward(ChannelsFirstData.activations(x, 2),
                    ChannelsFirstData.activations(dy, 2));

            String what = "transposeKernel " + transposeKernel + " ";
            assertSame(what + "y", ChannelsFirstData.activations(y, 2), yFirst);
            assertSame(what + "dx", ChannelsFirstData.activations(grads.dx(), 2), gradsFirst.dx());
            assertSame(what + "dkernel", ChannelsFirstData.permute(grads.dkernel(), kernelOrder),
                    gradsFirst.dkernel());
        }
    }

    @Test
    void refusalsNameTheLayout() {
        Tensor kernel = Tensor.zeros(8, 4, 3, 3);
        Conv conv = Conv.builder(kernel).layout(Layout.CHANNELS_FIRST).backend(CpuBackend.instance()).build();
        String channels = refusal(() -> conv.apply(Tensor.zeros(2, 5, 8, 8)));
        assertTrue(channels.startsWith("input: shape [2, 5, 8, 8] in channels-first layout has 5 channels at dim 1 "
                + "but the kernel (Cout, Cin/groups, *k) [8, 4, 3, 3] expects 4"), channels);
        String rank = refusal(() -> conv.apply(Tensor.zeros(4, 8)));
        assertTrue(rank.contains("(*batch, Cin, *spatial) in channels-first layout"), rank);
        String groups = refusal(() -> Conv.builder(Tensor.zeros(6, 2, 3)).layout(Layout.CHANNELS_FIRST)
                .spec(ConvSpec.builder().groups(4).build()).backend(CpuBackend.instance()).build()
                .apply(Tensor.zeros(1, 6, 9)));
        assertTrue(groups.contains("not divisible by 4 groups") && groups.contains("channels-first"), groups);
        String bias = refusal(() -> Conv.builder(kernel).bias(Tensor.zeros(4)).layout(Layout.CHANNELS_FIRST)
                .backend(CpuBackend.instance()).build());
        assertTrue(bias.contains("does not match 8 output channels"), bias);
        String cotangent = refusal(() -> conv.backward(Tensor.zeros(2, 4, 8, 8), Tensor.zeros(2, 8, 8, 7)));
        assertTrue(cotangent.contains("differs from the output shape [2, 8, 8, 8]"), cotangent);
        String kernelRank = refusal(() -> Conv.builder(Tensor.zeros(8, 4)).layout(Layout.CHANNELS_FIRST)
                .backend(CpuBackend.instance()).build());
        assertTrue(kernelRank.contains("(Cout, Cin/groups, *k) in channels-first layout"), kernelRank);

        ConvTranspose transpose = ConvTranspose.builder(Tensor.zeros(4, 6, 3)).layout(Layout.CHANNELS_FIRST)
                .backend(CpuBackend.instance()).build();
        String transposeChannels = refusal(() -> transpose.apply(Tensor.zeros(1, 6, 10)));
        assertTrue(transposeChannels.startsWith("input: shape [1, 6, 10] in channels-first layout has 6 channels at "
                + "dim 1 but the kernel (Cin, Cout, *k) [4, 6, 3] expects 4"), transposeChannels);
        assertArrayEquals(new int[] {1, 6, 10}, transpose.outputShape(1, 4, 10));
        // What does not concern the layout is refused word for word as in channels-last.
        String dilation = refusal(() -> Conv.builder(kernel).layout(Layout.CHANNELS_FIRST)
                .spec(ConvSpec.builder().inputDilation(2).build()).backend(CpuBackend.instance()).build()
                .apply(Tensor.zeros(1, 4, 6, 6)));
        assertEquals(refusal(() -> Conv.builder(Tensor.zeros(3, 3, 4, 8)).spec(ConvSpec.builder().inputDilation(2)
                .build()).backend(CpuBackend.instance()).build().apply(Tensor.zeros(1, 6, 6, 4))), dilation);
    }

    private static String refusal(Runnable call) {
        return assertThrows(IllegalArgumentException.class, call::run).getMessage();
    }

    private static void assertSame(String what, Tensor expected, Tensor actual) {
        assertArrayEquals(expected.shape(), actual.shape(), what + " shape");
        assertArrayEquals(expected.data(), actual.data(), what);
    }

    private static int[] concat(int[]... parts) {
        return Arrays.stream(parts).flatMapToInt(Arrays::stream).toArray();
    }
}
