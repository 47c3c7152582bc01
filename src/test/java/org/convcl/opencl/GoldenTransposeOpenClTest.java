package org.convcl.opencl;

import java.util.Random;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.convcl.nn.ConvGradients;
import org.convcl.nn.ConvTranspose;
import org.convcl.nn.DeviceGradients;
import org.convcl.Tensor;
import org.convcl.testing.ConvTransposeReference;
import org.convcl.testing.GoldenCase;
import org.convcl.testing.GradientCheck;
import org.convcl.testing.NaiveConv;
import org.convcl.testing.OpenClBackendPerClass;
import org.convcl.testing.RandomTensors;
import org.convcl.testing.Tolerance;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every golden flax nnx.ConvTranspose case on the OpenCL backend, through host arrays and through device
 * tensors: the output against flax, and (the suite has no transposed gradients) the gradients of a random
 * cotangent against central differences of the float64 reference and the adjoint identities. Host and device
 * paths run the same kernels, so they must agree bit for bit.
 */
class GoldenTransposeOpenClTest {
    @RegisterExtension
    static final OpenClBackendPerClass OPENCL = new OpenClBackendPerClass();

    static Stream<GoldenCase> transposeCases() {
        return GoldenCase.ofOp("conv_transpose").stream().filter(c -> c.error() == null);
    }

    private static ConvTranspose layer(GoldenCase c) {
        return ConvTranspose.builder(c.array("kernel")).bias(c.has("bias") ? c.array("bias") : null)
                .spec(ConvTransposeReference.spec(c)).backend(OPENCL.backend()).build();
    }

    private static NaiveConv.Result reference(GoldenCase c, boolean withBias) {
        double[] bias = withBias && c.has("bias") ? Tolerance.toDouble(c.array("bias").data()) : null;
        return ConvTransposeReference.of(c).forward(Tolerance.toDouble(c.array("x").data()),
                Tolerance.toDouble(c.array("kernel").data()), bias);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("transposeCases")
    void hostArraysAndDeviceTensorsReproduceFlax(GoldenCase c) {
        ConvTranspose layer = layer(c);
        NaiveConv.Result reference = reference(c, true);
        Tensor onHost = layer.apply(c.array("x"));
        Tolerance.assertClose(c.name() + " host", reference.shape(), c.reference("y"), reference.absSums(),
                onHost.shape(), onHost.data());
        Tensor onDevice;
        try (DeviceTensor x = OPENCL.backend().upload(c.array("x")); DeviceTensor y = layer.apply(x)) {
            onDevice = y.download();
        } finally {
            layer.releaseDeviceParameters();
        }
        Tolerance.assertClose(c.name() + " device", reference.shape(), c.reference("y"), reference.absSums(),
                onDevice.shape(), onDevice.data());
        GoldenGradientOpenClTest.assertSameBits(c.name() + " y", onHost, onDevice);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("transposeCases")
    void gradientsOnDeviceTensorsAndHostArraysMatchTheReference(GoldenCase c) {
        ConvTranspose layer = layer(c);
        Tensor ct = RandomTensors.uniform(new SplittableRandom(c.name().hashCode()), c.array("y").shape());
        ConvGradients onHost = layer.backward(c.array("x"), ct);
        ConvGradients onDevice;
        try (DeviceTensor x = OPENCL.backend().upload(c.array("x")); DeviceTensor dy = OPENCL.backend().upload(ct);
                DeviceGradients grads = layer.backward(x, dy)) {
            onDevice = grads.download();
        } finally {
            layer.releaseDeviceParameters();
        }
        double[] x = Tolerance.toDouble(c.array("x").data());
        double[] w = Tolerance.toDouble(c.array("kernel").data());
        double[] dy = Tolerance.toDouble(ct.data());
        ConvTransposeReference f = ConvTransposeReference.of(c);
        NaiveConv.Result withoutBias = reference(c, false);
        GradientCheck.assertGradients(c.name(), f, x, w, dy, c.has("bias"), onDevice, new Random(7));
        GradientCheck.assertAdjoint(c.name(), withoutBias.values(), withoutBias.absSums(), dy, x,
                Tolerance.toDouble(onDevice.dx().data()), w, Tolerance.toDouble(onDevice.dkernel().data()));
        // Same kernels in the same order: the host-array path gives the same bits, so it passes the same checks.
        GoldenGradientOpenClTest.assertSameBits(c.name() + " dx", onHost.dx(), onDevice.dx());
        GoldenGradientOpenClTest.assertSameBits(c.name() + " dkernel", onHost.dkernel(), onDevice.dkernel());
        if (c.has("bias")) {
            GoldenGradientOpenClTest.assertSameBits(c.name() + " dbias", onHost.dbias(), onDevice.dbias());
        }
    }
}
