package org.convcl.cli;

import org.convcl.ConvGeometry;
import org.convcl.DType;
import org.convcl.HalfFloats;
import org.convcl.Layout;
import org.convcl.Precision;
import org.convcl.Tensor;
import org.convcl.backend.ConvBackend;
import org.convcl.io.Float16Array;
import org.convcl.opencl.DeviceTensor;
import org.convcl.opencl.OpenClBackend;

/**
 * A {@code conv --dtype float16|bfloat16} run (issue 26): on an OpenCL device, the operands uploaded as the type and
 * the forward convolution on the 16-bit device tensors; on the Java path, the operands rounded to the type's bits
 * and its 16-bit host forward ({@link ConvBackend#forward(ConvGeometry, DType, short[], short[], short[], short[])},
 * converting inside its tasks). Both accumulate in float32 and store the output in the type. What the 16-bit path
 * does not take yet (gradients, the epilogue, channels-first, {@code conv-transpose}) is refused by
 * {@link #checkOptions} before any file is read, naming the option, its value and the rule; {@link LayerRun} keeps
 * the order of the rest.
 */
final class HalfPrecisionRun {
    private HalfPrecisionRun() {
    }

    /**
     * The convolution a 16-bit run computes, in float32 values that the upload rounds to the type: the
     * channels-last geometry for X's shape, the kernel as the convolution sees it (masked) and the bias (or null).
     */
    record Convolution(ConvGeometry geometry, Tensor kernel, Tensor bias) {
    }

    /**
     * Refuses (exit 2) a 16-bit run of what it cannot run yet; nothing for {@link DType#FLOAT32}. Called once the
     * settings are parsed and before any file is read.
     *
     * @param commandName the command, named when it has no 16-bit run
     * @param commandRunsHalfPrecision whether the command has one ({@link LayerCommand#runsHalfPrecision})
     */
    static void checkOptions(DType dtype, String commandName, boolean commandRunsHalfPrecision,
            GradientOutputs gradients, EpilogueOptions epilogue, Precision precision, Layout layout) {
        if (dtype == DType.FLOAT32) {
            return;
        }
        String given = "--dtype " + dtype.cliName();
        if (!commandRunsHalfPrecision) {
            throw new IllegalArgumentException(given + ": " + commandName + " computes float32 only for now; of the "
                    + "layer commands only conv runs in float16 and bfloat16");
        }
        if (gradients.requested()) {
            throw new IllegalArgumentException(GradientOutputs.COTANGENT + " given with " + given + ": the backward "
                    + "pass computes float32 only for now; give --dtype float32 for gradients");
        }
        String epilogueOption = epilogue.firstGiven();
        if (epilogueOption != null) {
            throw new IllegalArgumentException(epilogueOption + " given with " + given + ": the epilogue (--scale, "
                    + "--shift, --residual, --activation) takes float32 only for now; give --dtype float32");
        }
        if (precision != Precision.HIGHEST) {
            throw new IllegalArgumentException("--precision " + precision.cliName() + " given with " + given
                    + ": TF32 rounds float32 operands; 16-bit operands are multiplied in float32 already, so "
                    + "--precision must be highest");
        }
        if (layout != Layout.CHANNELS_LAST) {
            throw new IllegalArgumentException("--layout " + layout + " given with " + given + ": 16-bit runs take "
                    + "channels-last only for now; give --layout channels-last or --dtype float32");
        }
    }

    /**
     * Convolves {@code x} in {@code dtype} on {@code backend} and hands Y to {@code outputs} under
     * {@code option}: float16 as its bits (an {@code '<f2'} file), bfloat16 as float32 values, which hold every
     * bfloat16 value exactly.
     */
    static void forward(ConvBackend backend, DType dtype, Convolution conv, Tensor x, OutputFiles outputs,
            String option) {
        ConvGeometry g = conv.geometry();
        short[] y = backend instanceof OpenClBackend device ? onDevice(device, dtype, conv, x)
                : onHost(backend, dtype, conv, x);
        if (dtype == DType.FLOAT16) {
            outputs.putFloat16(option, Float16Array.of(y, g.outputShape()));
        } else {
            outputs.put(option, Tensor.of(HalfFloats.decode(dtype, y), g.outputShape()));
        }
    }

    /** The operands rounded to the type on upload (on the device), the output's bits downloaded. */
    private static short[] onDevice(OpenClBackend device, DType dtype, Convolution conv, Tensor x) {
        ConvGeometry g = conv.geometry();
        try (DeviceTensor input = DeviceTensor.upload(device, x, dtype);
                DeviceTensor kernel = DeviceTensor.upload(device, conv.kernel(), dtype);
                DeviceTensor bias = conv.bias() == null ? null : DeviceTensor.upload(device, conv.bias(), dtype);
                DeviceTensor output = DeviceTensor.allocate(device, dtype, g.outputShape())) {
            device.forward(g, input, kernel, bias, output);
            return output.downloadBits();
        }
    }

    /**
     * The operands rounded to the type's bits here (as the device rounds them on upload: nearest even; float16
     * files hold float16 values already), and the backend's 16-bit host forward.
     */
    private static short[] onHost(ConvBackend backend, DType dtype, Convolution conv, Tensor x) {
        ConvGeometry g = conv.geometry();
        short[] output = new short[(int) Tensor.elementCount(g.outputShape())];
        backend.forward(g, dtype, HalfFloats.encode(dtype, x.data()), HalfFloats.encode(dtype, conv.kernel().data()),
                conv.bias() == null ? null : HalfFloats.encode(dtype, conv.bias().data()), output);
        return output;
    }
}
