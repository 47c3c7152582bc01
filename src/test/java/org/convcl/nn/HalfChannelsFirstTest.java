package org.convcl.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.convcl.ConvSpec;
import org.convcl.ConvTransposeSpec;
import org.convcl.DType;
import org.convcl.Layout;
import org.convcl.Padding;
import org.convcl.PoolOp;
import org.convcl.PoolSpec;
import org.convcl.Tensor;
import org.convcl.backend.ConvBackend;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.opencl.DeviceConvOps;
import org.convcl.opencl.DeviceTensor;
import org.convcl.opencl.OpenClBackend;
import org.convcl.testing.ChannelsFirstData;
import org.convcl.testing.OpenClTesting;
import org.convcl.testing.RandomTensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Channels-first layers in float16 and bfloat16 (issue 26). Their axis moves move 16-bit values as they are, and
 * rounding to the type is element by element, so a channels-first 16-bit layer gives, bit for bit, what the
 * channels-last 16-bit layer gives on the same values transposed: a Conv with bias and mask (and a residual),
 * a ConvTranspose with transposeKernel (its kernel moved and flipped on a device), and max and avg Pools. Host
 * forwards on the Java path and on OpenCL; on OpenCL also the device forwards and the backward passes, host and
 * device (the Java path has no 16-bit backward pass yet, HalfLayerJavaPathTest).
 */
class HalfChannelsFirstTest {
    private static final int SPATIAL = 2;
    /** Channels-last input (N, H, W, C). */
    private static final int[] X = {2, 5, 6, 3};
    /** Conv kernel (kh, kw, Cin, Cout). */
    private static final int[] CONV_KERNEL = {3, 2, 3, 4};
    private static final ConvSpec CONV_SPEC = ConvSpec.builder().strides(2, 1).padding(Padding.SAME).build();
    /** ConvTranspose kernel with transposeKernel: (kh, kw, Cout, Cin), Cin the input's channels. */
    private static final int[] TRANSPOSE_KERNEL = {2, 3, 2, 3};
    private static final ConvTransposeSpec TRANSPOSE_SPEC = ConvTransposeSpec.builder().strides(2, 1)
            .transposeKernel(true).build();
    private static final PoolSpec POOL_SPEC = PoolSpec.builder().window(3, 2).strides(2, 1).padding(Padding.SAME)
            .build();

    /** The Java path, and OpenCL's shared backend where there is a device (never closed by the tests). */
    static Stream<Arguments> backendsAndTypes() {
        Stream<ConvBackend> openCl = OpenClTesting.deviceIfAny().stream().map(Backends::openClBackend);
        return Stream.concat(Stream.of(CpuBackend.instance()), openCl).flatMap(backend ->
                Stream.of(DType.FLOAT16, DType.BFLOAT16).map(dtype -> Arguments.of(backend, dtype)));
    }

    static Stream<Arguments> typesAndPoolOps() {
        return Stream.of(DType.FLOAT16, DType.BFLOAT16).flatMap(dtype ->
                Stream.of(PoolOp.MAX, PoolOp.AVG).map(op -> Arguments.of(dtype, op)));
    }

    /** One set of parameters and operands, channels-last; {@link #first} gives any of them channels-first. */
    private record Operands(Tensor x, Tensor kernel, Tensor bias, Tensor mask, Tensor transposeKernel,
            Tensor transposeBias) {
        static Operands of(DType dtype) {
            SplittableRandom random = new SplittableRandom(26 + dtype.ordinal());
            Tensor mask = RandomTensors.uniform(random, CONV_KERNEL);
            float[] ones = mask.data();
            for (int i = 0; i < ones.length; i++) {
                ones[i] = ones[i] < 0 ? 0 : 1;
            }
            return new Operands(RandomTensors.uniform(random, X), RandomTensors.uniform(random, CONV_KERNEL),
                    RandomTensors.uniform(random, CONV_KERNEL[3]), mask,
                    RandomTensors.uniform(random, TRANSPOSE_KERNEL), RandomTensors.uniform(random,
                            TRANSPOSE_KERNEL[2]));
        }

        Conv conv(Layout layout, DType dtype, ConvBackend backend) {
            boolean firstLayout = layout == Layout.CHANNELS_FIRST;
            return Conv.builder(firstLayout ? channelsFirstConvKernel(kernel) : kernel).bias(bias)
                    .mask(firstLayout ? channelsFirstConvKernel(mask) : mask).spec(CONV_SPEC).layout(layout)
                    .dtype(dtype).backend(backend).build();
        }

        ConvTranspose convTranspose(Layout layout, DType dtype, ConvBackend backend) {
            Tensor held = layout == Layout.CHANNELS_FIRST ? channelsFirstTransposeKernel(transposeKernel)
                    : transposeKernel;
            return ConvTranspose.builder(held).bias(transposeBias).spec(TRANSPOSE_SPEC).layout(layout)
                    .dtype(dtype).backend(backend).build();
        }
    }

    @ParameterizedTest(name = "{0} {1}", autoCloseArguments = false)
    @MethodSource("backendsAndTypes")
    void hostForwardsAreTheChannelsLastLayersOnTransposedValues(ConvBackend backend, DType dtype) {
        Operands o = Operands.of(dtype);
        try (Conv last = o.conv(Layout.CHANNELS_LAST, dtype, backend);
                Conv first = o.conv(Layout.CHANNELS_FIRST, dtype, backend);
                ConvTranspose transposeLast = o.convTranspose(Layout.CHANNELS_LAST, dtype, backend);
                ConvTranspose transposeFirst = o.convTranspose(Layout.CHANNELS_FIRST, dtype, backend)) {
            Tensor y = last.apply(o.x());
            assertSameBits("Conv forward", activations(y), first.apply(activations(o.x())));
            Tensor residual = RandomTensors.uniform(new SplittableRandom(dtype.ordinal()), y.shape());
            assertSameBits("Conv forward with a residual", activations(last.apply(o.x(), residual)),
                    first.apply(activations(o.x()), activations(residual)));
            assertSameBits("ConvTranspose forward", activations(transposeLast.apply(o.x())),
                    transposeFirst.apply(activations(o.x())));
        }
    }

    /**
     * The host backward passes: on OpenCL the device passes on uploaded operands, moved there; on the Java path the
     * 16-bit host recipes, the axes moved on the float32 values around the rounding.
     */
    @ParameterizedTest(name = "{0} {1}", autoCloseArguments = false)
    @MethodSource("backendsAndTypes")
    void hostBackwardPassesAreTheChannelsLastOnesTransposed(ConvBackend device, DType dtype) {
        Operands o = Operands.of(dtype);
        try (Conv last = o.conv(Layout.CHANNELS_LAST, dtype, device);
                Conv first = o.conv(Layout.CHANNELS_FIRST, dtype, device);
                ConvTranspose transposeLast = o.convTranspose(Layout.CHANNELS_LAST, dtype, device);
                ConvTranspose transposeFirst = o.convTranspose(Layout.CHANNELS_FIRST, dtype, device)) {
            Tensor dy = RandomTensors.uniform(new SplittableRandom(~dtype.ordinal()), last.outputShape(X));
            ConvGradients expected = last.backward(o.x(), dy);
            ConvGradients got = first.backward(activations(o.x()), activations(dy));
            assertSameBits("Conv dx", activations(expected.dx()), got.dx());
            assertSameBits("Conv dkernel", channelsFirstConvKernel(expected.dkernel()), got.dkernel());
            assertSameBits("Conv dbias", expected.dbias(), got.dbias());
            Tensor transposeDy = RandomTensors.uniform(new SplittableRandom(dtype.ordinal()),
                    transposeLast.outputShape(X));
            ConvGradients transposeExpected = transposeLast.backward(o.x(), transposeDy);
            ConvGradients transposeGot = transposeFirst.backward(activations(o.x()), activations(transposeDy));
            assertSameBits("ConvTranspose dx", activations(transposeExpected.dx()), transposeGot.dx());
            assertSameBits("ConvTranspose dkernel", channelsFirstTransposeKernel(transposeExpected.dkernel()),
                    transposeGot.dkernel());
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = DType.class, names = {"FLOAT16", "BFLOAT16"})
    void deviceConvAndConvTransposeAreTheChannelsLastOnesTransposed(DType dtype) {
        OpenClBackend device = openCl();
        Operands o = Operands.of(dtype);
        Tensor dy = RandomTensors.uniform(new SplittableRandom(~dtype.ordinal()),
                CONV_SPEC.resolve(X, CONV_KERNEL).outputShape());
        try (Conv last = o.conv(Layout.CHANNELS_LAST, dtype, device);
                Conv first = o.conv(Layout.CHANNELS_FIRST, dtype, device);
                ConvTranspose transposeLast = o.convTranspose(Layout.CHANNELS_LAST, dtype, device);
                ConvTranspose transposeFirst = o.convTranspose(Layout.CHANNELS_FIRST, dtype, device);
                DeviceTensor xLast = DeviceTensor.upload(device, o.x(), dtype);
                DeviceTensor xFirst = DeviceTensor.upload(device, activations(o.x()), dtype);
                DeviceTensor dyLast = DeviceTensor.upload(device, dy, dtype);
                DeviceTensor dyFirst = DeviceTensor.upload(device, activations(dy), dtype);
                DeviceTensor yLast = last.apply(xLast);
                DeviceTensor yFirst = first.apply(xFirst);
                DeviceGradients expected = last.backward(xLast, dyLast);
                DeviceGradients got = first.backward(xFirst, dyFirst);
                DeviceTensor transposedLast = transposeLast.apply(xLast);
                DeviceTensor transposedFirst = transposeFirst.apply(xFirst)) {
            assertEquals(dtype, yFirst.dtype());
            assertSameBits("Conv forward", activations(yLast), yFirst);
            assertSameBits("Conv dx", activations(expected.dx()), got.dx());
            assertSameBits("Conv dkernel", ChannelsFirstData.permute(expected.dkernel().downloadBits(), CONV_KERNEL,
                    ChannelsFirstData.convKernelOrder(SPATIAL)), got.dkernel());
            assertSameBits("Conv dbias (float32)", expected.dbias().download(), got.dbias().download());
            assertSameBits("ConvTranspose forward", activations(transposedLast), transposedFirst);
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("typesAndPoolOps")
    void devicePoolsAreTheChannelsLastOnesTransposed(DType dtype, PoolOp op) {
        OpenClBackend device = openCl();
        Pool last = Pool.builder(op, POOL_SPEC).backend(device).build();
        Pool first = Pool.builder(op, POOL_SPEC).layout(Layout.CHANNELS_FIRST).backend(device).build();
        SplittableRandom random = new SplittableRandom(dtype.ordinal() * 2 + op.ordinal());
        Tensor x = RandomTensors.uniform(random, X);
        Tensor dy = RandomTensors.uniform(random, last.outputShape(X));
        try (DeviceTensor xLast = DeviceTensor.upload(device, x, dtype);
                DeviceTensor xFirst = DeviceTensor.upload(device, activations(x), dtype);
                DeviceTensor dyLast = DeviceTensor.upload(device, dy, dtype);
                DeviceTensor dyFirst = DeviceTensor.upload(device, activations(dy), dtype);
                DeviceTensor yLast = last.apply(xLast);
                DeviceTensor yFirst = first.apply(xFirst);
                DeviceTensor dxLast = last.backward(xLast, dyLast);
                DeviceTensor dxFirst = first.backward(xFirst, dyFirst)) {
            assertEquals(dtype, yFirst.dtype());
            assertEquals(dtype, dxFirst.dtype());
            assertSameBits(op + " pool forward", activations(yLast), yFirst);
            assertSameBits(op + " pool backward", activations(dxLast), dxFirst);
        }
    }

    /** The transpose moves a 16-bit word as it is: a NaN's payload too, which a widen-and-round would change. */
    @Test
    void theDeviceTransposeMovesSixteenBitWordsUnchanged() {
        OpenClBackend device = openCl();
        // Signalling NaNs in both types' encodings, infinities, signed zeros, subnormals and ordinary values.
        short[] words = {(short) 0x7c01, (short) 0xfd55, (short) 0x7f81, (short) 0xff80, (short) 0x8000, 0x0000,
                0x0001, (short) 0x8200, 0x3c00, (short) 0xc0a0, 0x0055, 0x7bff};
        int[] shape = {3, 4};
        for (DType dtype : new DType[] {DType.FLOAT16, DType.BFLOAT16}) {
            try (DeviceTensor source = DeviceTensor.upload(device, words, dtype, shape);
                    DeviceTensor target = DeviceTensor.allocate(device, dtype, 4, 3)) {
                new DeviceConvOps(device).transpose(source, 1, 3, 4, target);
                assertArrayEquals(ChannelsFirstData.permute(words, shape, new int[] {1, 0}), target.downloadBits(),
                        dtype.cliName());
            }
        }
    }

    private static OpenClBackend openCl() {
        return Backends.openClBackend(OpenClTesting.device());
    }

    /** A channels-last activation tensor of this class's rank, channels-first. */
    private static Tensor activations(Tensor channelsLast) {
        return ChannelsFirstData.activations(channelsLast, SPATIAL);
    }

    /** A channels-last 16-bit device tensor's bits in channels-first order. */
    private static short[] activations(DeviceTensor channelsLast) {
        return ChannelsFirstData.permute(channelsLast.downloadBits(), channelsLast.shape(),
                ChannelsFirstData.activationOrder(channelsLast.rank(), SPATIAL));
    }

    private static Tensor channelsFirstConvKernel(Tensor channelsLast) {
        return ChannelsFirstData.permute(channelsLast, ChannelsFirstData.convKernelOrder(SPATIAL));
    }

    private static Tensor channelsFirstTransposeKernel(Tensor channelsLast) {
        return ChannelsFirstData.permute(channelsLast, ChannelsFirstData.transposeKernelOrder(SPATIAL, true));
    }

    private static void assertSameBits(String what, Tensor expected, Tensor actual) {
        assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
        assertArrayEquals(rawBits(expected.data()), rawBits(actual.data()), what);
    }

    private static void assertSameBits(String what, short[] expected, DeviceTensor actual) {
        assertArrayEquals(expected, actual.downloadBits(), what);
    }

    private static int[] rawBits(float[] values) {
        int[] bits = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            bits[i] = Float.floatToRawIntBits(values[i]);
        }
        return bits;
    }
}
