package org.convcl.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.convcl.ConvGeometry;
import org.convcl.ConvTransposeGeometry;
import org.convcl.DType;
import org.convcl.HalfFloats;
import org.convcl.Padding;
import org.convcl.PoolOp;
import org.convcl.PoolSpec;
import org.convcl.Tensor;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.nn.Conv;
import org.convcl.nn.ConvGradients;
import org.convcl.nn.ConvTranspose;
import org.convcl.nn.DeviceGradients;
import org.convcl.nn.Pool;
import org.convcl.testing.ConvTransposeReference;
import org.convcl.testing.GoldenCase;
import org.convcl.testing.HalfBound;
import org.convcl.testing.HalfLayerCase;
import org.convcl.testing.NaiveConv;
import org.convcl.testing.NaiveGradients;
import org.convcl.testing.NaivePool;
import org.convcl.testing.OpenClBackendPerClass;
import org.convcl.testing.RandomTensors;
import org.convcl.testing.Reference;
import org.convcl.testing.Tolerance;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The layers in float16 and bfloat16 (issue 26): a Conv, a ConvTranspose and a Pool built with a 16-bit dtype, given
 * float32 parameters and tensors uploaded as float32 values rounded on the device, against float64 on the rounded
 * operands within {@link HalfBound}'s bound. The Conv's device forward and backward (dx and dkernel in the type, the
 * kernel gradient masked on the device, dbias float32), its host-tensor calls (the same device passes, widened), and
 * its re-rounding after {@code parametersChanged()}; the ConvTranspose's and the Pool's device forward; and the Java
 * path's 16-bit layer beside the device's on the same inputs.
 */
class HalfLayerOpenClTest {
    private static final Logger LOG = LoggerFactory.getLogger(HalfLayerOpenClTest.class);

    @RegisterExtension
    static final OpenClBackendPerClass OPENCL = new OpenClBackendPerClass();

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = DType.class, names = {"FLOAT16", "BFLOAT16"})
    void convForwardAndBackwardMatchFloat64OnTheRoundedOperands(DType dtype) {
        GoldenCase c = golden(GoldenCase.all(), "grad_conv2d_basic");
        Tensor kernel = c.array("kernel");
        Tensor bias = c.array("bias");
        // Zeros and ones: the mask's product is exact, so the rounded kernel times the mask is the masked operand.
        Tensor mask = zerosAndOnes(new SplittableRandom(dtype.ordinal()), kernel.shape());
        Tensor x = HalfBound.rounded(c.array("x"), dtype);
        Tensor w = HalfBound.rounded(kernel, dtype);
        Tensor b = HalfBound.rounded(bias, dtype);
        double[] masked = Tolerance.toDouble(w.data());
        for (int i = 0; i < masked.length; i++) {
            masked[i] *= mask.data()[i];
        }
        ConvGeometry g = c.spec().resolve(x.shape(), w.shape());
        Tensor dy = HalfBound.rounded(RandomTensors.uniform(new SplittableRandom(~dtype.ordinal()), g.outputShape()),
                dtype);
        OpenClBackend backend = OPENCL.backend();

        try (Conv conv = Conv.builder(kernel).bias(bias).mask(mask).spec(c.spec()).dtype(dtype).backend(backend)
                .build();
                DeviceTensor input = DeviceTensor.upload(backend, c.array("x"), dtype);
                DeviceTensor cotangent = DeviceTensor.upload(backend, dy, dtype);
                DeviceTensor y = conv.apply(input);
                DeviceGradients grads = conv.backward(input, cotangent)) {
            assertEquals(List.of(dtype, dtype, dtype, DType.FLOAT32), List.of(y.dtype(), grads.dx().dtype(),
                    grads.dkernel().dtype(), grads.dbias().dtype()), "y, dx and dkernel in the type, dbias float32");
            float[] got = HalfFloats.decode(dtype, y.downloadBits());
            NaiveConv.Result reference = Reference.forward(Tolerance.toDouble(x.data()), x.shape(), masked,
                    w.shape(), Tolerance.toDouble(b.data()), c.strides(), c.inputDilation(), c.kernelDilation(),
                    c.libraryPadding(), c.groups());
            HalfBound.assertWithin("Conv forward", dtype, g.kernelTaps() * g.inChannelsPerGroup(), reference, got);

            ConvGradients downloaded = grads.download();
            NaiveGradients.Result expected = NaiveGradients.of(Tolerance.toDouble(x.data()), x.shape(), masked,
                    w.shape(), Tolerance.toDouble(dy.data()), c.strides(), c.inputDilation(), c.kernelDilation(),
                    c.libraryPadding(), c.groups());
            HalfBound.assertWithin("Conv dx", dtype, (long) g.kernelTaps() * g.outChannelsPerGroup(), false,
                    expected.dx(), expected.dxAbs(), downloaded.dx().data());
            double[] dk = expected.dk().clone();
            double[] dkAbs = expected.dkAbs().clone();
            for (int i = 0; i < dk.length; i++) {
                dk[i] *= mask.data()[i];
                dkAbs[i] *= mask.data()[i];
            }
            long rows = Tensor.elementCount(g.outputShape()) / g.outChannels();
            HalfBound.assertWithin("Conv dkernel", dtype, rows, false, dk, dkAbs, downloaded.dkernel().data());

            // Host tensors: rounded to the type and run through the same device passes, the results widened.
            assertArrayEquals(got, conv.apply(c.array("x")).data(), "host apply = the device forward, widened");
            ConvGradients host = conv.backward(c.array("x"), dy);
            assertArrayEquals(downloaded.dx().data(), host.dx().data(), "host dx = the device's");
            assertArrayEquals(downloaded.dkernel().data(), host.dkernel().data(), "host dkernel = the device's");
            assertArrayEquals(downloaded.dbias().data(), host.dbias().data(), "host dbias = the device's");

            // Negated in place and re-rounded: rounding to nearest even is symmetric, so every output negates.
            negate(kernel);
            negate(bias);
            conv.parametersChanged();
            try (DeviceTensor negated = conv.apply(input)) {
                float[] again = HalfFloats.decode(dtype, negated.downloadBits());
                for (int i = 0; i < got.length; i++) {
                    assertEquals(-got[i], again[i], "output " + i + " after parametersChanged() on negated values");
                }
            }
        }
    }

    /**
     * The Java path's 16-bit layer against this one, on the same inputs ({@link HalfLayerCase}: a Conv with a mask,
     * an epilogue and a residual): every result (output, dx, dkernel, dbias, dscale, dshift, dresidual) of both
     * within the bounds of float64 on the rounded operands. Their bits need not agree (each path sums in float32 in
     * its own order); how many differ is logged. One case: its device programs (the epilogue's forward and gradient
     * on 16-bit tensors) compile on PoCL.
     */
    @Test
    void theJavaPathsLayerGivesWhatTheDevicesDoesWithinTheBounds() {
        HalfLayerCase layer = HalfLayerCase.conv("grad_conv2d_basic", DType.FLOAT16, true, true);
        Map<String, float[]> java = layer.run(CpuBackend.instance());
        Map<String, float[]> device = layer.run(OPENCL.backend());
        layer.assertWithinBounds("the Java path", java);
        layer.assertWithinBounds("OpenCL", device);
        java.forEach((name, values) -> {
            float[] other = device.get(name);
            int differing = 0;
            for (int i = 0; i < values.length; i++) {
                differing += Float.floatToRawIntBits(values[i]) != Float.floatToRawIntBits(other[i]) ? 1 : 0;
            }
            LOG.info("{} {}: {} of {} values differ in their bits between the Java path and OpenCL", layer, name,
                    differing, values.length);
        });
    }

    /** One type: the recipes' 16-bit arithmetic is HalfTransposeOpenClTest's; this is the layer's wiring. */
    @Test
    void convTransposeForwardMatchesFloat64OnTheRoundedOperands() {
        DType dtype = DType.BFLOAT16;
        GoldenCase c = golden(GoldenCase.ofOp("conv_transpose"), "transpose_kernel_flag");
        Tensor x = HalfBound.rounded(c.array("x"), dtype);
        Tensor w = HalfBound.rounded(c.array("kernel"), dtype);
        Tensor b = HalfBound.rounded(c.array("bias"), dtype);
        ConvTransposeGeometry tg = ConvTransposeReference.spec(c).resolve(x.shape(), w.shape());
        OpenClBackend backend = OPENCL.backend();
        float[] got;
        try (ConvTranspose layer = ConvTranspose.builder(c.array("kernel")).bias(c.array("bias"))
                .spec(ConvTransposeReference.spec(c)).dtype(dtype).backend(backend).build();
                DeviceTensor input = DeviceTensor.upload(backend, c.array("x"), dtype);
                DeviceTensor y = layer.apply(input)) {
            assertEquals(dtype, y.dtype());
            got = HalfFloats.decode(dtype, y.downloadBits());
        }
        NaiveConv.Result reference = ConvTransposeReference.of(c).forward(Tolerance.toDouble(x.data()),
                Tolerance.toDouble(w.data()), Tolerance.toDouble(b.data()));
        assertArrayEquals(reference.shape(), tg.outputShape());
        int[] kernelShape = tg.conv().kernelShape();
        HalfBound.assertWithin("ConvTranspose forward", dtype,
                Tensor.elementCount(kernelShape) / kernelShape[kernelShape.length - 1], tg.circularFold() != null,
                reference.values(), reference.absSums(), got);
    }

    /** Max pooling stores one of its input values: exactly float64's maximum of the rounded input. */
    @Test
    void poolForwardKeepsTheTypeAndMatchesFloat64() {
        DType dtype = DType.FLOAT16;
        int[] shape = {2, 5, 6, 3};
        Pool pool = Pool.builder(PoolOp.MAX, PoolSpec.builder().window(3, 3).strides(1, 2).padding(Padding.SAME)
                .build()).backend(OPENCL.backend()).build();
        Tensor values = RandomTensors.uniform(new SplittableRandom(dtype.ordinal() + 5), shape);
        float[] got;
        try (DeviceTensor input = DeviceTensor.upload(OPENCL.backend(), values, dtype);
                DeviceTensor y = pool.apply(input)) {
            assertEquals(dtype, y.dtype());
            got = HalfFloats.decode(dtype, y.downloadBits());
        }
        NaivePool naive = new NaivePool(PoolOp.MAX, shape, new int[] {3, 3}, new int[] {1, 2}, Padding.SAME, true);
        double[] expected = naive.forward(Tolerance.toDouble(HalfBound.rounded(values, dtype).data()));
        assertArrayEquals(expected, Tolerance.toDouble(got));
    }

    private static GoldenCase golden(List<GoldenCase> cases, String name) {
        return cases.stream().filter(g -> g.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError(name + " is no golden case"));
    }

    private static Tensor zerosAndOnes(SplittableRandom random, int[] shape) {
        Tensor mask = Tensor.zeros(shape);
        for (int i = 0; i < mask.size(); i++) {
            mask.data()[i] = random.nextBoolean() ? 1 : 0;
        }
        return mask;
    }

    private static void negate(Tensor tensor) {
        for (int i = 0; i < tensor.size(); i++) {
            tensor.data()[i] = -tensor.data()[i];
        }
    }
}
