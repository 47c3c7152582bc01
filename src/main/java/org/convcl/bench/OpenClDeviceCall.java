package org.convcl.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.convcl.Activation;
import org.convcl.Epilogue;
import org.convcl.nn.Conv;
import org.convcl.ConvGeometry;
import org.convcl.Tensor;
import org.convcl.opencl.DeviceTensor;
import org.convcl.opencl.OpenClBackend;
import org.convcl.opencl.internal.runtime.KernelEvents;

/** The bench's device-resident path on OpenCL: operands uploaded once, the output allocated once and reused. */
final class OpenClDeviceCall implements DeviceCall {
    private final OpenClBackend backend;
    private final ConvGeometry geometry;
    private final DeviceTensor input;
    private final DeviceTensor kernel;
    private final DeviceTensor bias;
    private final DeviceTensor output;
    private final Tensor poison;
    private final Conv layer;
    private float[] chained;
    /** The epilogues' residual, scale, shift and output, each allocated on first use. */
    private DeviceTensor residual;
    private DeviceTensor scale;
    private DeviceTensor shift;
    private DeviceTensor epilogueOutput;

    OpenClDeviceCall(OpenClBackend backend, BenchRunner.Prepared work) {
        this.backend = backend;
        this.geometry = work.geometry();
        this.input = backend.upload(Tensor.of(work.input(), geometry.inputShape()));
        this.kernel = backend.upload(Tensor.of(work.kernel(), geometry.kernelShape()));
        this.bias = backend.upload(Tensor.of(work.bias(), geometry.outChannels()));
        this.output = backend.allocate(geometry.outputShape());
        float[] nan = new float[(int) Tensor.elementCount(geometry.outputShape())];
        Arrays.fill(nan, Float.NaN);
        this.poison = Tensor.of(nan, geometry.outputShape());
        this.layer = Conv.builder(Tensor.of(work.kernel(), geometry.kernelShape()))
                .bias(Tensor.of(work.bias(), geometry.outChannels())).spec(work.spec()).backend(backend).build();
    }

    @Override
    public void poisonOutput() {
        output.write(poison);
    }

    @Override
    public double deviceMillis() {
        return KernelEvents.deviceMillis(() -> backend.forward(geometry, input, kernel, bias, output));
    }

    @Override
    public double chainMillisPerCall(int calls) {
        List<DeviceTensor> results = new ArrayList<>(calls);
        long start = System.nanoTime();
        try {
            for (int i = 0; i < calls; i++) {
                results.add(layer.apply(input));
            }
            backend.finish();
            double perCall = (System.nanoTime() - start) / 1e6 / calls;
            chained = results.get(calls - 1).download().data();
            return perCall;
        } finally {
            results.forEach(DeviceTensor::close);
        }
    }

    @Override
    public double fusedEpilogueMillis(float[] residualValues) {
        prepareEpilogue(residualValues);
        Epilogue<DeviceTensor> fused = new Epilogue<>(Activation.relu(), null, null, residual);
        long start = System.nanoTime();
        backend.forward(geometry, input, kernel, bias, fused, epilogueOutput);
        backend.finish();
        return (System.nanoTime() - start) / 1e6;
    }

    @Override
    public double unfusedEpilogueMillis(float[] residualValues) {
        prepareEpilogue(residualValues);
        int channels = geometry.outChannels();
        long start = System.nanoTime();
        backend.forward(geometry, input, kernel, bias, epilogueOutput);
        backend.epiloguePass(new Epilogue<>(Activation.identity(), null, null, residual), channels, epilogueOutput);
        backend.epiloguePass(new Epilogue<>(Activation.relu(), null, null, null), channels, epilogueOutput);
        backend.finish();
        return (System.nanoTime() - start) / 1e6;
    }

    @Override
    public double activationEpilogueMillis(float[] scaleValues, float[] shiftValues) {
        if (scale == null) {
            scale = backend.upload(Tensor.of(scaleValues, geometry.outChannels()));
            shift = backend.upload(Tensor.of(shiftValues, geometry.outChannels()));
        }
        prepareEpilogueOutput();
        Epilogue<DeviceTensor> batchNormRelu = new Epilogue<>(Activation.relu(), scale, shift, null);
        long start = System.nanoTime();
        backend.forward(geometry, input, kernel, bias, batchNormRelu, epilogueOutput);
        backend.finish();
        return (System.nanoTime() - start) / 1e6;
    }

    @Override
    public double inPlaceEpilogueMillis(float[] residualValues) {
        // The output starts as the residual (no NaN poisoning, no separate residual buffer).
        fillEpilogueOutput(Tensor.of(residualValues, geometry.outputShape()));
        Epilogue<DeviceTensor> inPlace = new Epilogue<>(Activation.relu(), null, null, epilogueOutput);
        long start = System.nanoTime();
        backend.forward(geometry, input, kernel, bias, inPlace, epilogueOutput);
        backend.finish();
        return (System.nanoTime() - start) / 1e6;
    }

    private void prepareEpilogue(float[] residualValues) {
        if (residual == null) {
            residual = backend.upload(Tensor.of(residualValues, geometry.outputShape()));
        }
        prepareEpilogueOutput();
    }

    private void prepareEpilogueOutput() {
        fillEpilogueOutput(poison);
    }

    /** The epilogue output, allocated on first use, filled with {@code values} before the clock starts. */
    private void fillEpilogueOutput(Tensor values) {
        if (epilogueOutput == null) {
            epilogueOutput = backend.allocate(geometry.outputShape());
        }
        epilogueOutput.write(values);
        // The write is enqueued: finish it before the clock starts, or it is timed with the call.
        backend.finish();
    }

    @Override
    public float[] downloadEpilogue() {
        if (epilogueOutput == null) {
            throw new IllegalStateException("no epilogue call has run yet");
        }
        return epilogueOutput.download().data();
    }

    @Override
    public float[] download() {
        return output.download().data();
    }

    @Override
    public float[] downloadChained() {
        if (chained == null) {
            throw new IllegalStateException("no chained call has run yet");
        }
        return chained;
    }

    @Override
    public void close() {
        layer.close();
        for (DeviceTensor tensor : new DeviceTensor[] {input, kernel, bias, output, residual, scale, shift,
            epilogueOutput}) {
            if (tensor != null) {
                tensor.close();
            }
        }
    }
}
