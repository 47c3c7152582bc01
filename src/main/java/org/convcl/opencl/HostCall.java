package org.convcl.opencl;

import java.util.ArrayList;
import java.util.List;
import org.convcl.ConvGeometry;
import org.convcl.EdgePadding;
import org.convcl.Epilogue;
import org.convcl.PoolGeometry;
import org.convcl.PoolOp;
import org.convcl.Tensor;
import org.convcl.backend.internal.HostEpilogue;
import org.convcl.backend.internal.HostOperands;

/**
 * How a host-array operation of an {@link OpenClBackend} runs: as its device-tensor form, over memory from the
 * backend's caching allocator. The operands are uploaded into device tensors, the device operation runs, its
 * result is downloaded into the caller's array, and every tensor is closed, which gives its memory back to the
 * pool; so a loop of host-array calls allocates no device memory after its first round, and the host and
 * device forms cannot drift apart (one execution path). Stateless.
 */
final class HostCall {
    private HostCall() {
    }

    /** {@link OpenClBackend#kernelGradient(ConvGeometry, float[], float[], float[])} after checking its arrays. */
    static void kernelGradient(OpenClBackend backend, ConvGeometry g, float[] input, float[] outputGradient,
            float[] kernelGradient) {
        HostOperands.kernelGradient(g, input, outputGradient, kernelGradient);
        run(backend, new Tensor[] {Tensor.of(input, g.inputShape()), Tensor.of(outputGradient, g.outputShape())},
                kernelGradient, g.kernelShape(), (in, result) -> backend.kernelGradient(g, in[0], in[1], result));
    }

    /** {@link OpenClBackend#biasGradient(int, int, float[], float[])} after checking its arrays. */
    static void biasGradient(OpenClBackend backend, int rows, int channels, float[] outputGradient,
            float[] biasGradient) {
        HostOperands.biasGradient(rows, channels, outputGradient, biasGradient);
        run(backend, new Tensor[] {Tensor.of(outputGradient, rows, channels)}, biasGradient, new int[] {channels},
                (in, result) -> backend.biasGradient(in[0], result));
    }

    /** {@link OpenClBackend#pad(EdgePadding, float[], float[])} after checking its arrays. */
    static void pad(OpenClBackend backend, EdgePadding padding, float[] source, float[] padded) {
        HostOperands.pad(padding, source, padded);
        run(backend, new Tensor[] {Tensor.of(source, padding.sourceShape())}, padded, padding.paddedShape(),
                (in, result) -> backend.pad(padding, in[0], result));
    }

    /** {@link OpenClBackend#fold(EdgePadding, float[], float[], float[])} after checking its arrays. */
    static void fold(OpenClBackend backend, EdgePadding padding, float[] padded, float[] bias, float[] source) {
        HostOperands.fold(padding, padded, bias, source);
        run(backend, new Tensor[] {Tensor.of(padded, padding.paddedShape()),
                bias == null ? null : Tensor.of(bias, padding.channels())}, source, padding.sourceShape(),
                (in, result) -> backend.fold(padding, in[0], in[1], result));
    }

    /** {@link OpenClBackend#poolForward(PoolOp, PoolGeometry, float[], float[])} after checking its arrays. */
    static void poolForward(OpenClBackend backend, PoolOp op, PoolGeometry g, float[] input, float[] output) {
        PoolOps.check(op, g);
        HostOperands.length("input", input, g.inputShape());
        HostOperands.length("output", output, g.outputShape());
        run(backend, new Tensor[] {Tensor.of(input, g.inputShape())}, output, g.outputShape(),
                (in, result) -> backend.poolForward(op, g, in[0], result));
    }

    /** {@link OpenClBackend#poolBackward(PoolOp, PoolGeometry, float[], float[], float[])} after checking its arrays. */
    static void poolBackward(OpenClBackend backend, PoolOp op, PoolGeometry g, float[] input, float[] outputGradient,
            float[] inputGradient) {
        PoolOps.check(op, g);
        HostOperands.length("input", input, g.inputShape());
        HostOperands.length("outputGradient", outputGradient, g.outputShape());
        HostOperands.length("inputGradient", inputGradient, g.inputShape());
        run(backend, new Tensor[] {Tensor.of(input, g.inputShape()), Tensor.of(outputGradient, g.outputShape())},
                inputGradient, g.inputShape(), (in, result) -> backend.poolBackward(op, g, in[0], in[1], result));
    }

    /**
     * {@link OpenClBackend#forward(ConvGeometry, float[], float[], float[], Epilogue, float[])} after checking its
     * arrays and the epilogue's operands against the output.
     */
    static void forward(OpenClBackend backend, ConvGeometry g, float[] input, float[] kernel, float[] bias,
            Epilogue<float[]> epilogue, float[] output) {
        HostOperands.forward(g, input, kernel, bias, output);
        HostEpilogue.check(epilogue, g.outChannels(), output.length);
        int[] channels = {g.outChannels()};
        run(backend, new Tensor[] {Tensor.of(input, g.inputShape()), Tensor.of(kernel, g.kernelShape()),
                bias == null ? null : Tensor.of(bias, channels), perChannel(epilogue.scale(), channels),
                perChannel(epilogue.shift(), channels), residual(epilogue.residual(), g.outputShape())}, output,
                g.outputShape(), (in, result) -> backend.forward(g, in[0], in[1], in[2],
                        new Epilogue<>(epilogue.activation(), in[3], in[4], in[5]), result));
    }

    /**
     * {@link OpenClBackend#fold(EdgePadding, float[], float[], Epilogue, float[])} after checking its arrays and the
     * epilogue's operands against the source it writes.
     */
    static void fold(OpenClBackend backend, EdgePadding padding, float[] padded, float[] bias,
            Epilogue<float[]> epilogue, float[] source) {
        HostOperands.fold(padding, padded, bias, source);
        HostEpilogue.check(epilogue, padding.channels(), source.length);
        int[] channels = {padding.channels()};
        run(backend, new Tensor[] {Tensor.of(padded, padding.paddedShape()),
                bias == null ? null : Tensor.of(bias, channels), perChannel(epilogue.scale(), channels),
                perChannel(epilogue.shift(), channels), residual(epilogue.residual(), padding.sourceShape())}, source,
                padding.sourceShape(), (in, result) -> backend.fold(padding, in[0], in[1],
                        new Epilogue<>(epilogue.activation(), in[2], in[3], in[4]), result));
    }

    private static Tensor perChannel(float[] values, int[] channels) {
        return values == null ? null : Tensor.of(values, channels);
    }

    private static Tensor residual(float[] values, int[] outputShape) {
        return values == null ? null : Tensor.of(values, outputShape);
    }

    /** A device-tensor operation writing {@code result} from {@code operands} (an operand may be null). */
    interface DeviceWork {
        void run(DeviceTensor[] operands, DeviceTensor result);
    }

    /**
     * Uploads {@code operands} (each null, or values with the shape the device operation checks), runs
     * {@code work} into a device tensor of {@code resultShape}, and copies that into {@code result}, which the
     * caller has checked holds {@code resultShape}. An empty result needs no work.
     */
    private static void run(OpenClBackend backend, Tensor[] operands, float[] result, int[] resultShape, DeviceWork work) {
        if (result.length == 0) {
            return;
        }
        List<DeviceTensor> made = new ArrayList<>();
        try {
            DeviceTensor[] onDevice = new DeviceTensor[operands.length];
            for (int i = 0; i < operands.length; i++) {
                if (operands[i] != null) {
                    onDevice[i] = backend.upload(operands[i]);
                    made.add(onDevice[i]);
                }
            }
            DeviceTensor out = backend.allocate(resultShape);
            made.add(out);
            work.run(onDevice, out);
            backend.tensors().download(out, result); // waits for the work, then copies straight into the caller's array
        } finally {
            made.forEach(DeviceTensor::close);
        }
    }
}
