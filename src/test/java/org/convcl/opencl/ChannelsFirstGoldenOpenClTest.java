package org.convcl.opencl;

import org.convcl.nn.Conv;
import org.convcl.nn.ConvGradients;
import org.convcl.nn.ConvTranspose;
import org.convcl.nn.DeviceGradients;
import org.convcl.Layout;
import org.convcl.Tensor;
import org.convcl.backend.ConvBackend;
import org.convcl.testing.ChannelsFirstData;
import org.convcl.testing.ChannelsFirstGoldenCases;
import org.convcl.testing.GoldenCase;
import org.convcl.testing.OpenClBackendPerClass;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every golden case through {@code Layout.CHANNELS_FIRST} layers on the OpenCL backend (PoCL in CI), with the
 * golden data moved to channels-first ({@link ChannelsFirstGoldenCases}: host arrays, uploaded as they are and
 * moved on the device); and the same layers on channels-first device tensors, which must give the host-array
 * results bit for bit (the same kernels in the same order).
 */
class ChannelsFirstGoldenOpenClTest extends ChannelsFirstGoldenCases {
    @RegisterExtension
    static final OpenClBackendPerClass OPENCL = new OpenClBackendPerClass();

    @Override
    protected ConvBackend backend() {
        return OPENCL.backend();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("convCases")
    void convOnDeviceTensorsGivesTheHostArrayResult(GoldenCase c) {
        Conv layer = conv(c, OPENCL.backend());
        Tensor x = channelsFirst(c, "x");
        Tensor onHost = layer.apply(x);
        try (DeviceTensor deviceX = OPENCL.backend().upload(x); DeviceTensor y = layer.apply(deviceX)) {
            assertSameBits(c.name(), onHost, y.download());
        } finally {
            layer.close();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("gradientCases")
    void convBackwardOnDeviceTensorsGivesTheHostArrayGradients(GoldenCase c) {
        Conv layer = conv(c, OPENCL.backend());
        Tensor x = channelsFirst(c, "x");
        Tensor ct = channelsFirst(c, "ct");
        ConvGradients onHost = layer.backward(x, ct);
        try (DeviceTensor deviceX = OPENCL.backend().upload(x); DeviceTensor deviceCt = OPENCL.backend().upload(ct);
                DeviceGradients grads = layer.backward(deviceX, deviceCt)) {
            assertSameGradients(c.name(), onHost, grads.download());
        } finally {
            layer.close();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("transposeCases")
    void convTransposeOnDeviceTensorsGivesTheHostArrayResults(GoldenCase c) {
        ConvTranspose layer = convTranspose(c, OPENCL.backend(), Layout.CHANNELS_FIRST);
        Tensor x = channelsFirst(c, "x");
        Tensor ct = ChannelsFirstData.activations(transposeCotangent(c), c.rank());
        Tensor onHost = layer.apply(x);
        ConvGradients gradientsOnHost = layer.backward(x, ct);
        try (DeviceTensor deviceX = OPENCL.backend().upload(x); DeviceTensor y = layer.apply(deviceX);
                DeviceTensor deviceCt = OPENCL.backend().upload(ct);
                DeviceGradients grads = layer.backward(deviceX, deviceCt)) {
            assertSameBits(c.name() + " y", onHost, y.download());
            assertSameGradients(c.name(), gradientsOnHost, grads.download());
        } finally {
            layer.close();
        }
    }

    private static void assertSameGradients(String what, ConvGradients expected, ConvGradients actual) {
        assertSameBits(what + " dx", expected.dx(), actual.dx());
        assertSameBits(what + " dkernel", expected.dkernel(), actual.dkernel());
        if (expected.dbias() != null) {
            assertSameBits(what + " dbias", expected.dbias(), actual.dbias());
        }
    }
}
