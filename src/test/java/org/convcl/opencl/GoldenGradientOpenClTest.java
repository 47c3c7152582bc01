package org.convcl.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.stream.Stream;
import org.convcl.nn.Conv;
import org.convcl.nn.ConvGradients;
import org.convcl.nn.DeviceGradients;
import org.convcl.Tensor;
import org.convcl.testing.GoldenCase;
import org.convcl.testing.GoldenGradients;
import org.convcl.testing.OpenClBackendPerClass;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every golden case with gradients (dx, dkernel, dbias of flax nnx.Conv) on the OpenCL backend (PoCL in CI),
 * through device tensors and through host arrays, which must agree bit for bit since they run the same
 * kernels in the same order.
 */
class GoldenGradientOpenClTest {
    @RegisterExtension
    static final OpenClBackendPerClass OPENCL = new OpenClBackendPerClass();

    static Stream<GoldenCase> gradientCases() {
        return GoldenCase.all().stream().filter(GoldenCase::grads);
    }

    private static Conv layer(GoldenCase c) {
        return Conv.builder(c.array("kernel")).bias(c.has("bias") ? c.array("bias") : null).spec(c.spec())
                .backend(OPENCL.backend()).build();
    }

    /**
     * Checked against flax on the device-tensor path; the host-array path must then give the very same bits
     * (so it matches flax too, without paying for the float64 scales twice).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("gradientCases")
    void deviceTensorsAndHostArraysReproduceFlaxGradients(GoldenCase c) {
        Conv layer = layer(c);
        ConvGradients onDevice;
        try (DeviceTensor x = OPENCL.backend().upload(c.array("x"));
                DeviceTensor ct = OPENCL.backend().upload(c.array("ct"));
                DeviceGradients grads = layer.backward(x, ct)) {
            onDevice = grads.download();
        } finally {
            layer.releaseDeviceParameters();
        }
        GoldenGradients.assertMatchFlax(c, onDevice.dx(), onDevice.dkernel(), onDevice.dbias());

        ConvGradients onHost = layer.backward(c.array("x"), c.array("ct"));
        assertSameBits(c.name() + " dx", onDevice.dx(), onHost.dx());
        assertSameBits(c.name() + " dkernel", onDevice.dkernel(), onHost.dkernel());
        if (onDevice.dbias() != null) {
            assertSameBits(c.name() + " dbias", onDevice.dbias(), onHost.dbias());
        }
    }

    static void assertSameBits(String what, Tensor expected, Tensor actual) {
        assertArrayEquals(expected.shape(), actual.shape(), what + " shape");
        assertArrayEquals(expected.data(), actual.data(), what + ": device-tensor and host-array paths differ");
    }
}
