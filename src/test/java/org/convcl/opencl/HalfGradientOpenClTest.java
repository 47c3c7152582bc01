package org.convcl.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.convcl.ConvGeometry;
import org.convcl.DType;
import org.convcl.EdgeMode;
import org.convcl.EdgePadding;
import org.convcl.HalfFloats;
import org.convcl.Tensor;
import org.convcl.backend.internal.BackwardRecipe;
import org.convcl.backend.internal.ConvStep;
import org.convcl.testing.GoldenCase;
import org.convcl.testing.HalfBound;
import org.convcl.testing.NaiveGradients;
import org.convcl.testing.OpenClBackendPerClass;
import org.convcl.testing.RandomTensors;
import org.convcl.testing.Tolerance;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The gradients of a convolution on float16 and bfloat16 device tensors (issue 26), as a layer's device backward
 * pass runs them ({@link DeviceConvOps#backward}): dx as a forward convolution of the output gradient with the
 * kernel flipped on the device (for CIRCULAR and REFLECT into a padded 16-bit temporary that the fold sums back),
 * dkernel by the kernel-gradient reduction, both in the operands' type with float32 sums, and dbias in float32.
 * Against float64 ({@link NaiveGradients}) on the rounded operands and cotangent within {@link HalfBound}'s bound,
 * K the products behind each value. A few golden gradient cases reach the plain, strided and dilated, grouped with
 * input dilation, and CIRCULAR (fold) forms; the cotangent is random, rounded to the type; two cases mask the
 * kernel gradient on the device.
 */
class HalfGradientOpenClTest {
    @RegisterExtension
    static final OpenClBackendPerClass OPENCL = new OpenClBackendPerClass();

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("grad_conv2d_basic", DType.FLOAT16, false),
                Arguments.of("grad_conv2d_basic", DType.BFLOAT16, true),
                Arguments.of("grad_conv2d_strided_dilated", DType.FLOAT16, true),
                Arguments.of("grad_conv1d_input_dilation_groups", DType.BFLOAT16, false),
                Arguments.of("grad_circular", DType.FLOAT16, false),
                Arguments.of("grad_circular", DType.BFLOAT16, false));
    }

    /** {@code masked}: the kernel gradient multiplied on the device by a 16-bit mask of zeros and ones. */
    @ParameterizedTest(name = "{0} in {1} (masked: {2})")
    @MethodSource("cases")
    void matchFloat64OnTheRoundedOperands(String name, DType dtype, boolean masked) {
        GoldenCase c = GoldenCase.all().stream().filter(g -> g.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError(name + " is no golden case"));
        Tensor x = HalfBound.rounded(c.array("x"), dtype);
        Tensor w = HalfBound.rounded(c.array("kernel"), dtype);
        ConvGeometry g = c.spec().resolve(x.shape(), w.shape());
        Tensor dy = HalfBound.rounded(RandomTensors.uniform(new SplittableRandom(name.hashCode()),
                g.outputShape()), dtype);
        Tensor mask = masked ? zerosAndOnes(new SplittableRandom(~name.hashCode()), w.shape()) : null;
        OpenClBackend backend = OPENCL.backend();
        DeviceConvOps ops = new DeviceConvOps(backend);

        short[] dx;
        short[] dkernel;
        float[] dbias;
        List<DeviceTensor> flipped = new ArrayList<>();
        try (DeviceTensor input = upload(backend, x, dtype); DeviceTensor kernel = upload(backend, w, dtype);
                DeviceTensor cotangent = upload(backend, dy, dtype);
                DeviceTensor factors = mask == null ? null : upload(backend, mask, dtype)) {
            BackwardRecipe.Gradients<DeviceTensor> grads = ops.backward(ConvStep.of(g), input, cotangent,
                    groups -> keep(flipped, ops.flipSwapped(kernel, kernel.shape(), groups)), factors, true);
            try (DeviceTensor gx = grads.dx(); DeviceTensor gk = grads.dkernel(); DeviceTensor gb = grads.dbias()) {
                assertEquals(List.of(dtype, dtype, DType.FLOAT32), List.of(gx.dtype(), gk.dtype(), gb.dtype()),
                        "dx and dkernel in the operands' type, dbias in float32");
                dx = gx.downloadBits();
                dkernel = gk.downloadBits();
                dbias = gb.download().data();
            }
        } finally {
            flipped.forEach(DeviceTensor::close);
        }

        NaiveGradients.Result reference = NaiveGradients.of(Tolerance.toDouble(x.data()), x.shape(),
                Tolerance.toDouble(w.data()), w.shape(), Tolerance.toDouble(dy.data()), c.strides(),
                c.inputDilation(), c.kernelDilation(), c.libraryPadding(), c.groups());
        boolean folded = g.edgeMode() != EdgeMode.ZERO;
        HalfBound.assertWithin(name + " dx", dtype, inputGradientProducts(g), folded, reference.dx(),
                reference.dxAbs(), HalfFloats.decode(dtype, dx));
        long rows = Tensor.elementCount(g.outputShape()) / g.outChannels();
        double[] dk = reference.dk().clone();
        double[] dkAbs = reference.dkAbs().clone();
        for (int i = 0; mask != null && i < dk.length; i++) {
            dk[i] *= mask.data()[i];
            dkAbs[i] *= mask.data()[i];
        }
        HalfBound.assertWithin(name + " dkernel", dtype, rows, false, dk, dkAbs, HalfFloats.decode(dtype, dkernel));
        double[] sums = new double[g.outChannels()];
        double[] absSums = new double[g.outChannels()];
        for (int i = 0; i < dy.size(); i++) {
            sums[i % sums.length] += dy.data()[i];
            absSums[i % sums.length] += Math.abs(dy.data()[i]);
        }
        HalfBound.assertFloat32SumWithin(name + " dbias in " + dtype.cliName(), rows, sums, absSums, dbias);
    }

    /**
     * The most products behind one dx value: the taps times the group's output channels, times, where the input
     * is padded by copies (CIRCULAR, REFLECT), the padded positions that copy one input position (at most the
     * padded size over the input size, rounded up, plus one for a reflection turning back over its edge, per dim).
     */
    private static long inputGradientProducts(ConvGeometry g) {
        long products = (long) g.kernelTaps() * g.outChannelsPerGroup();
        if (g.edgeMode() != EdgeMode.ZERO) {
            EdgePadding padding = EdgePadding.ofInput(g);
            for (int d = 0; d < padding.rank(); d++) {
                products *= -Math.floorDiv(-padding.paddedSpatial()[d], padding.sourceSpatial()[d]) + 1;
            }
        }
        return products;
    }

    /** A mask of zeros and ones, about half each: a product by it is exact, so dkernel keeps its bound. */
    private static Tensor zerosAndOnes(SplittableRandom random, int[] shape) {
        Tensor mask = Tensor.zeros(shape);
        for (int i = 0; i < mask.size(); i++) {
            mask.data()[i] = random.nextBoolean() ? 1 : 0;
        }
        return mask;
    }

    private static DeviceTensor keep(List<DeviceTensor> made, DeviceTensor tensor) {
        made.add(tensor);
        return tensor;
    }

    private static DeviceTensor upload(OpenClBackend backend, Tensor values, DType dtype) {
        return DeviceTensor.upload(backend, HalfFloats.encode(dtype, values.data()), dtype, values.shape());
    }
}
