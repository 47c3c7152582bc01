package org.convcl.bench;

import java.util.Arrays;
import org.convcl.ConvGeometry;
import org.convcl.Tensor;
import org.convcl.opencl.DeviceTensor;
import org.convcl.opencl.OpenClBackend;

/** The bench's device-resident path on OpenCL: operands uploaded once, output kept on the device. */
final class OpenClDeviceCall implements DeviceCall {
    private final OpenClBackend backend;
    private final ConvGeometry geometry;
    private final DeviceTensor input;
    private final DeviceTensor kernel;
    private final DeviceTensor bias;
    private final Tensor poison;
    private DeviceTensor output;

    OpenClDeviceCall(OpenClBackend backend, BenchRunner.Prepared work) {
        this.backend = backend;
        this.geometry = work.geometry();
        this.input = backend.upload(Tensor.of(work.input(), geometry.inputShape()));
        this.kernel = backend.upload(Tensor.of(work.kernel(), geometry.kernelShape()));
        this.bias = backend.upload(Tensor.of(work.bias(), geometry.outChannels()));
        float[] nan = new float[(int) Tensor.elementCount(geometry.outputShape())];
        Arrays.fill(nan, Float.NaN);
        this.poison = Tensor.of(nan, geometry.outputShape());
    }

    @Override
    public void poisonOutput() {
        if (output != null) {
            output.close();
        }
        output = backend.upload(poison);
        backend.finish();
    }

    @Override
    public void run() {
        backend.forward(geometry, input, kernel, bias, output);
        backend.finish();
    }

    @Override
    public float[] download() {
        return output.download().data();
    }

    @Override
    public void close() {
        for (DeviceTensor tensor : new DeviceTensor[] {input, kernel, bias, output}) {
            if (tensor != null) {
                tensor.close();
            }
        }
    }
}
