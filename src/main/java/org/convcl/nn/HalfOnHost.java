package org.convcl.nn;

import org.convcl.DType;
import org.convcl.HalfFloats;
import org.convcl.Tensor;
import org.convcl.backend.ConvBackend;
import org.convcl.backend.internal.ConvStep;

/**
 * A float16 or bfloat16 layer's host-tensor calls on a backend without a device (the Java path): the forward rounds
 * the input, the masked kernel and the bias to the layer's type and runs the backend's 16-bit host forward
 * ({@link ConvBackend#forward(org.convcl.ConvGeometry, DType, short[], short[], short[], short[])}: products summed
 * in float32, the output rounded once; with the layer's epilogue and a call's residual, the 16-bit form that fuses
 * them as a device does: scale and shift float32, the residual rounded to the type), then widens the output to
 * float32, in the layer's layout (a channels-first layer's axes moved around it, its moved kernel kept across
 * calls as the float32 layers keep theirs). It has no wrap-around fold, and there is no 16-bit host backward yet,
 * so those calls are refused, naming what to do instead.
 * Immutable and thread-safe.
 */
record HalfOnHost(ConvBackend backend) implements HostArrayCalls {
    @Override
    public Tensor apply(LayerCore<?> core, ConvStep step, Tensor x, Tensor residual) {
        DType dtype = core.dtype();
        if (step.outputFold() != null) {
            throw refused(core, "a transposed convolution with CIRCULAR padding (its wrap-around fold)");
        }
        // A channels-first layer's axes move on the float32 values, before rounding and after widening: rounding
        // is element by element, so the bits are those of moving the rounded values; the moved kernel is kept.
        LayerLayout layout = core.layout();
        float[] kernel = step.convKernel(core.internalKernel());
        short[] output = new short[(int) Tensor.elementCount(step.outputShape())];
        short[] input = rounded(dtype, layout.toInternal(x.data(), x.shape()));
        short[] kernelBits = rounded(dtype, kernel);
        short[] bias = core.bias() == null ? null : rounded(dtype, core.bias().data());
        if (residual == null && !core.hasEpilogue()) {
            backend.forward(step.conv(), dtype, input, kernelBits, bias, output);
        } else {
            // As on a device: scale and shift float32, the residual rounded to the type, one rounding at the end.
            backend.forward(step.conv(), dtype, input, kernelBits, bias, core.hostEpilogue(null),
                    residual == null ? null : rounded(dtype, layout.toInternal(residual.data(), residual.shape())),
                    output);
        }
        float[] widened = new float[output.length];
        HalfFloats.decode(dtype, output, 0, widened, 0, output.length);
        return layout.toUser(widened, step.outputShape());
    }

    @Override
    public ConvGradients backward(LayerCore<?> core, ConvStep step, Tensor x, Tensor residual, Tensor dy) {
        throw new IllegalArgumentException("backward: " + core + " computes in " + core.dtype().cliName()
                + ", and the Java path has no " + core.dtype().cliName() + " backward pass yet; run it on an OpenCL "
                + "backend (host or device tensors), or build the layer with dtype(DType.FLOAT32)");
    }

    private static short[] rounded(DType dtype, float[] values) {
        short[] bits = new short[values.length];
        HalfFloats.encode(dtype, values, 0, bits, 0, values.length);
        return bits;
    }

    private static IllegalArgumentException refused(LayerCore<?> core, String what) {
        return new IllegalArgumentException("apply: " + core + " computes in " + core.dtype().cliName()
                + ", and the Java path's " + core.dtype().cliName() + " forward does not run " + what + " yet; run it on "
                + "an OpenCL backend, or build the layer with dtype(DType.FLOAT32)");
    }
}
