package org.convcl.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
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
import org.convcl.testing.Tolerance;

/**
 * The gradients of a golden case on float16 or bfloat16 device tensors (issue 26), as a layer's device backward
 * pass runs them ({@link DeviceConvOps#backward}), held to float64 ({@link NaiveGradients}) on the rounded operands
 * and cotangent within {@link HalfBound}'s bound, K the products behind each value: dx and dkernel in the type,
 * dbias in float32. Shared by the CI subset (HalfGradientOpenClTest) and the exhaustive run
 * (HalfGoldenExhaustiveOpenClTest), so that both hold the device to the same bound.
 */
final class HalfGradientCheck {
    private HalfGradientCheck() {
    }

    /**
     * Runs {@code c}'s gradients in {@code dtype} for the cotangent {@code dy} (rounded to the type here) and
     * asserts them within the bound; {@code mask}, when not null, zeros and ones (exact in any type) that multiply
     * the kernel gradient on the device.
     */
    static void assertWithinBound(OpenClBackend backend, GoldenCase c, DType dtype, Tensor dy, Tensor mask) {
        String name = c.name();
        Tensor x = HalfBound.rounded(c.array("x"), dtype);
        Tensor w = HalfBound.rounded(c.array("kernel"), dtype);
        Tensor ct = HalfBound.rounded(dy, dtype);
        ConvGeometry g = c.spec().resolve(x.shape(), w.shape());
        DeviceConvOps ops = new DeviceConvOps(backend);

        short[] dx;
        short[] dkernel;
        float[] dbias;
        List<DeviceTensor> flipped = new ArrayList<>();
        try (DeviceTensor input = upload(backend, x, dtype); DeviceTensor kernel = upload(backend, w, dtype);
                DeviceTensor cotangent = upload(backend, ct, dtype);
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
                Tolerance.toDouble(w.data()), w.shape(), Tolerance.toDouble(ct.data()), c.strides(),
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
        for (int i = 0; i < ct.size(); i++) {
            sums[i % sums.length] += ct.data()[i];
            absSums[i % sums.length] += Math.abs(ct.data()[i]);
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

    private static DeviceTensor keep(List<DeviceTensor> made, DeviceTensor tensor) {
        made.add(tensor);
        return tensor;
    }

    private static DeviceTensor upload(OpenClBackend backend, Tensor values, DType dtype) {
        return DeviceTensor.upload(backend, HalfFloats.encode(dtype, values.data()), dtype, values.shape());
    }
}
