package org.convcl.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import java.util.Random;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.convcl.nn.Conv;
import org.convcl.nn.ConvGradients;
import org.convcl.ConvSpec;
import org.convcl.nn.ConvTranspose;
import org.convcl.ConvTransposeSpec;
import org.convcl.nn.DeviceGradients;
import org.convcl.Padding;
import org.convcl.Tensor;
import org.convcl.backend.ConvBackend;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.testing.OpenClBackendPerClass;
import org.convcl.testing.RandomConfigs.ConvConfig;
import org.convcl.testing.RandomConfigs.TransposeConfig;
import org.convcl.testing.RandomConfigs;
import org.convcl.testing.Tolerance;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Backward passes on random configurations of every knob (ranks 1-3, batch dims, strides, both dilations,
 * groups, every padding mode, masks, bias on and off), and on larger shapes whose reductions are split and
 * whose kernel gradients span several work-groups: OpenCL, through host arrays and through device tensors,
 * agrees with the Java path within float32 rounding. Each element may differ by {@code 2e-5} times the sum
 * of |terms| behind it (each path is within {@code 1e-5} of the exact value), the sums coming from the same
 * backward pass run on absolute values. Device and host paths give the same bits.
 */
class RandomizedGradientOpenClTest {
    @RegisterExtension
    static final OpenClBackendPerClass OPENCL = new OpenClBackendPerClass();

    /**
     * Few seeds: each new shape compiles its forward (adjoint) program, about a second on PoCL; the backward
     * operations themselves meet 40 random configurations each in GradientOpsTest, where nothing compiles.
     */
    static IntStream seeds() {
        return IntStream.range(0, 12);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void convGradientsAgreeWithTheJavaPath(int seed) {
        Random random = new Random(7000 + seed);
        ConvConfig config = RandomConfigs.conv(random);
        Tensor kernel = values(random, config.wShape());
        int cout = config.wShape()[config.wShape().length - 1];
        Tensor bias = random.nextBoolean() ? values(random, cout) : null;
        Tensor mask = random.nextInt(3) == 0 ? mask(random, config.wShape()) : null;
        Tensor x = values(random, config.xShape());
        Tensor dy = values(random, config.spec().resolve(config.xShape(), config.wShape()).outputShape());
        assertConvAgrees(config.toString(), config.spec(), kernel, bias, mask, x, dy);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void transposeGradientsAgreeWithTheJavaPath(int seed) {
        Random random = new Random(8000 + seed);
        TransposeConfig config = RandomConfigs.transpose(random);
        int rank = config.wShape().length - 2;
        Tensor kernel = values(random, config.wShape());
        int cout = config.wShape()[config.spec().transposeKernel() ? rank : rank + 1];
        Tensor bias = random.nextBoolean() ? values(random, cout) : null;
        Tensor mask = random.nextInt(3) == 0 ? mask(random, config.wShape()) : null;
        Tensor x = values(random, config.xShape());
        Tensor dy = values(random, config.spec().resolve(config.xShape(), config.wShape()).outputShape());
        assertTransposeAgrees(config.toString(), config.spec(), kernel, bias, mask, x, dy);
    }

    /** Shapes beyond the small random ones: split reductions, several dW blocks, groups, wrapped edges. */
    static Stream<Arguments> largerShapes() {
        return Stream.of(
                // A long reduction onto a small kernel: the rows are split, the partials summed in order.
                Arguments.of(new int[] {4, 500, 3}, new int[] {5, 3, 4},
                        ConvSpec.builder().padding(Padding.CAUSAL).kernelDilation(3).build()),
                // Kernel-gradient rows and columns beyond one 32 x 32 block, two groups, wrap-around, stride.
                Arguments.of(new int[] {3, 20, 18, 12}, new int[] {3, 3, 6, 80},
                        ConvSpec.builder().groups(2).strides(2, 1).padding(Padding.CIRCULAR).build()),
                // Depthwise, mirrored edges, two batch dims.
                Arguments.of(new int[] {2, 2, 15, 13, 16}, new int[] {3, 5, 1, 16},
                        ConvSpec.builder().groups(16).padding(Padding.REFLECT).build()),
                // 3-d with input dilation and negative padding.
                Arguments.of(new int[] {2, 6, 7, 5, 4}, new int[] {2, 3, 2, 4, 40},
                        ConvSpec.builder().inputDilation(2, 1, 2).padding(Padding.pairs(new int[] {1, -1},
                                new int[] {0, 2}, new int[] {-1, 1})).build()));
    }

    @ParameterizedTest(name = "x{0} w{1} {2}")
    @MethodSource("largerShapes")
    void largerConvGradientsAgreeWithTheJavaPath(int[] xShape, int[] wShape, ConvSpec spec) {
        Random random = new Random(xShape.length * 31L + wShape[wShape.length - 1]);
        Tensor kernel = values(random, wShape);
        Tensor bias = values(random, wShape[wShape.length - 1]);
        Tensor mask = mask(random, wShape);
        Tensor x = values(random, xShape);
        Tensor dy = values(random, spec.resolve(xShape, wShape).outputShape());
        assertConvAgrees("x" + Arrays.toString(xShape), spec, kernel, bias, mask, x, dy);
    }

    @Test
    void largerTransposeGradientsAgreeWithTheJavaPath() {
        Random random = new Random(99);
        int[] wShape = {4, 4, 24, 40};
        ConvTransposeSpec spec = ConvTransposeSpec.builder().strides(2).padding(Padding.CIRCULAR)
                .transposeKernel(true).build();
        int[] xShape = {2, 9, 7, 40};
        Tensor dy = values(random, spec.resolve(xShape, wShape).outputShape());
        assertTransposeAgrees("larger transpose", spec, values(random, wShape), values(random, 24),
                mask(random, wShape), values(random, xShape), dy);
    }

    @Test
    void reductionsRepeatBitForBit() {
        Random random = new Random(5);
        int[] xShape = {4, 700, 6};
        int[] wShape = {3, 6, 5};
        ConvSpec spec = ConvSpec.builder().padding(Padding.CIRCULAR).build();
        Conv layer = Conv.builder(values(random, wShape)).bias(values(random, 5)).spec(spec)
                .backend(OPENCL.backend()).build();
        Tensor x = values(random, xShape);
        Tensor dy = values(random, spec.resolve(xShape, wShape).outputShape());
        ConvGradients first = layer.backward(x, dy);
        for (int run = 0; run < 3; run++) {
            ConvGradients again = layer.backward(x, dy);
            assertArrayEquals(first.dx().data(), again.dx().data(), "dx run " + run);
            assertArrayEquals(first.dkernel().data(), again.dkernel().data(), "dkernel run " + run);
            assertArrayEquals(first.dbias().data(), again.dbias().data(), "dbias run " + run);
        }
    }

    private static void assertConvAgrees(String what, ConvSpec spec, Tensor kernel, Tensor bias, Tensor mask,
            Tensor x, Tensor dy) {
        ConvGradients java = conv(kernel, bias, mask, spec, CpuBackend.instance()).backward(x, dy);
        Conv layer = conv(kernel, bias, mask, spec, OPENCL.backend());
        ConvGradients host = layer.backward(x, dy);
        ConvGradients device;
        try (DeviceTensor dx = OPENCL.backend().upload(x); DeviceTensor ddy = OPENCL.backend().upload(dy);
                DeviceGradients grads = layer.backward(dx, ddy)) {
            device = grads.download();
        } finally {
            layer.releaseDeviceParameters();
        }
        ConvGradients scale = conv(abs(kernel), bias, mask, spec, CpuBackend.instance()).backward(abs(x), abs(dy));
        assertAgree(what, java, host, device, scale);
    }

    private static void assertTransposeAgrees(String what, ConvTransposeSpec spec, Tensor kernel, Tensor bias,
            Tensor mask, Tensor x, Tensor dy) {
        ConvGradients java = transpose(kernel, bias, mask, spec, CpuBackend.instance()).backward(x, dy);
        ConvTranspose layer = transpose(kernel, bias, mask, spec, OPENCL.backend());
        ConvGradients host = layer.backward(x, dy);
        ConvGradients device;
        try (DeviceTensor dx = OPENCL.backend().upload(x); DeviceTensor ddy = OPENCL.backend().upload(dy);
                DeviceGradients grads = layer.backward(dx, ddy)) {
            device = grads.download();
        } finally {
            layer.releaseDeviceParameters();
        }
        ConvGradients scale = transpose(abs(kernel), bias, mask, spec, CpuBackend.instance())
                .backward(abs(x), abs(dy));
        assertAgree(what, java, host, device, scale);
    }

    private static void assertAgree(String what, ConvGradients java, ConvGradients host, ConvGradients device,
            ConvGradients scale) {
        assertClose(what + " dx", java.dx(), host.dx(), scale.dx());
        assertClose(what + " dkernel", java.dkernel(), host.dkernel(), scale.dkernel());
        assertEquals(java.dbias() == null, host.dbias() == null, what + ": a bias gradient exactly with a bias");
        if (java.dbias() != null) {
            assertClose(what + " dbias", java.dbias(), host.dbias(), scale.dbias());
            assertArrayEquals(host.dbias().data(), device.dbias().data(), what + " dbias: device vs host");
        }
        assertArrayEquals(host.dx().data(), device.dx().data(), what + " dx: device vs host");
        assertArrayEquals(host.dkernel().data(), device.dkernel().data(), what + " dkernel: device vs host");
    }

    private static void assertClose(String what, Tensor java, Tensor openCl, Tensor scale) {
        assertArrayEquals(java.shape(), openCl.shape(), what + " shape");
        float[] expected = java.data();
        float[] actual = openCl.data();
        float[] bound = scale.data();
        for (int i = 0; i < expected.length; i++) {
            double limit = 2 * Tolerance.RELATIVE * bound[i] + 1e-30;
            if (!(Math.abs(expected[i] - actual[i]) <= limit)) {
                fail(what + ": element " + i + " java " + expected[i] + " vs opencl " + actual[i] + " (bound " + limit
                        + ")");
            }
        }
        assertTrue(expected.length == 0 || bound.length == expected.length, what + " scale length");
    }

    private static Conv conv(Tensor kernel, Tensor bias, Tensor mask, ConvSpec spec, ConvBackend on) {
        return Conv.builder(kernel).bias(bias).mask(mask).spec(spec).backend(on).build();
    }

    private static ConvTranspose transpose(Tensor kernel, Tensor bias, Tensor mask, ConvTransposeSpec spec,
            ConvBackend on) {
        return ConvTranspose.builder(kernel).bias(bias).mask(mask).spec(spec).backend(on).build();
    }

    private static Tensor values(Random random, int... shape) {
        return Tensor.of(RandomConfigs.values(random, (int) Tensor.elementCount(shape)), shape);
    }

    private static Tensor mask(Random random, int[] shape) {
        return Tensor.of(RandomConfigs.mask(random, (int) Tensor.elementCount(shape)), shape);
    }

    private static Tensor abs(Tensor tensor) {
        float[] values = tensor.data().clone();
        for (int i = 0; i < values.length; i++) {
            values[i] = Math.abs(values[i]);
        }
        return Tensor.of(values, tensor.shape());
    }
}
