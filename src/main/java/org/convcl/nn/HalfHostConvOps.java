package org.convcl.nn;

import org.convcl.ConvGeometry;
import org.convcl.DType;
import org.convcl.EdgePadding;
import org.convcl.Epilogue;
import org.convcl.HalfFloats;
import org.convcl.Tensor;
import org.convcl.backend.ConvBackend;
import org.convcl.backend.internal.ConvOps;
import org.convcl.backend.internal.HalfHostEdges;
import org.convcl.backend.internal.HalfHostEpilogue;
import org.convcl.internal.KernelLayout;

/**
 * {@link ConvOps} on 16-bit host arrays through a {@link ConvBackend}'s 16-bit host operations: the recipes of a
 * float16 or bfloat16 layer on the Java path, the same steps as on 16-bit device tensors with the same rounding
 * points. Temporaries and results are bits of {@code dtype}, as {@code DeviceConvOps} makes them in the operands'
 * type; bias gradients (and so the epilogue's dscale and dshift) float32; the epilogue's scale and shift float32.
 * Each operation computes in float32 and rounds its result once: the convolutions (forward, and dx's adjoint forward)
 * run the backend's 16-bit host forward, which converts inside its tasks; the kernel and bias gradients the
 * backend's 16-bit reductions; pad, fold, the epilogue's gradient, the flipped kernel and the mask product here
 * ({@link HalfHostEdges}, {@link HalfHostEpilogue}). Immutable and thread-safe as the backend is.
 */
final class HalfHostConvOps implements ConvOps<HalfHostArray> {
    private final ConvBackend backend;
    private final DType dtype;

    HalfHostConvOps(ConvBackend backend, DType dtype) {
        this.backend = backend;
        this.dtype = dtype;
    }

    @Override
    public HalfHostArray allocate(int[] shape) {
        return HalfHostArray.ofBits(dtype, new short[(int) Tensor.elementCount(shape)]);
    }

    @Override
    public HalfHostArray allocateBiasGradient(int channels) {
        return HalfHostArray.ofFloats(new float[channels]);
    }

    @Override
    public void release(HalfHostArray tensor) {
        // Nothing to give back: the garbage collector owns host arrays.
    }

    /** Without an epilogue the plain 16-bit forward runs: the fused form's checks and tasks have nothing to do. */
    @Override
    public void forward(ConvGeometry g, HalfHostArray input, HalfHostArray kernel, HalfHostArray bias,
            Epilogue<HalfHostArray> epilogue, HalfHostArray output) {
        if (epilogue == null || epilogue.isNone()) {
            backend.forward(g, dtype, input.bits(), kernel.bits(), HalfHostArray.bitsOf(bias), output.bits());
        } else {
            backend.forward(g, dtype, input.bits(), kernel.bits(), HalfHostArray.bitsOf(bias), float32(epilogue),
                    HalfHostArray.bitsOf(epilogue.residual()), output.bits());
        }
    }

    @Override
    public void pad(EdgePadding padding, HalfHostArray source, HalfHostArray padded) {
        HalfHostEdges.pad(padding, source.bits(), padded.bits());
    }

    @Override
    public void fold(EdgePadding padding, HalfHostArray padded, HalfHostArray bias, Epilogue<HalfHostArray> epilogue,
            HalfHostArray source) {
        HalfHostEdges.fold(padding, dtype, padded.bits(), HalfHostArray.bitsOf(bias),
                epilogue == null ? null : float32(epilogue),
                epilogue == null ? null : HalfHostArray.bitsOf(epilogue.residual()), source.bits());
    }

    @Override
    public void kernelGradient(ConvGeometry g, HalfHostArray input, HalfHostArray outputGradient,
            HalfHostArray kernelGradient) {
        backend.kernelGradient(g, dtype, input.bits(), outputGradient.bits(), kernelGradient.bits());
    }

    /** A 16-bit output gradient summed in float32 into a float32 bias gradient, as on a device. */
    @Override
    public void biasGradient(HalfHostArray outputGradient, int channels, HalfHostArray biasGradient) {
        short[] rows = outputGradient.bits();
        backend.biasGradient(channels == 0 ? 0 : rows.length / channels, channels, dtype, rows,
                biasGradient.floats());
    }

    @Override
    public void epilogueGradient(Epilogue<HalfHostArray> epilogue, int channels, HalfHostArray conv,
            HalfHostArray dy, HalfHostArray dz, HalfHostArray dzConv, HalfHostArray dconv) {
        HalfHostEpilogue.gradient(float32(epilogue), dtype, HalfHostArray.bitsOf(epilogue.residual()), channels,
                conv.bits(), dy.bits(), dz.bits(), HalfHostArray.bitsOf(dzConv), dconv.bits());
    }

    /** The bits moved as they are: a flip and swap changes no value. */
    @Override
    public HalfHostArray flipSwapped(HalfHostArray kernel, int[] kernelShape, int groups) {
        return HalfHostArray.ofBits(dtype, KernelLayout.flipSwap(kernel.bits(), kernelShape, groups));
    }

    /** Each product in float32, rounded once to the type, as the device's multiply_in_place on 16-bit values. */
    @Override
    public void multiplyInPlace(HalfHostArray values, HalfHostArray factors) {
        short[] bits = values.bits();
        short[] factorBits = factors.bits();
        for (int i = 0; i < bits.length; i++) {
            bits[i] = HalfFloats.encode(dtype, HalfFloats.decode(dtype, bits[i]) * HalfFloats.decode(dtype,
                    factorBits[i]));
        }
    }

    /** The epilogue's activation, float32 scale and shift; its 16-bit residual goes apart, as the backend takes it. */
    private static Epilogue<float[]> float32(Epilogue<HalfHostArray> epilogue) {
        return new Epilogue<>(epilogue.activation(), HalfHostArray.floatsOf(epilogue.scale()),
                HalfHostArray.floatsOf(epilogue.shift()), null);
    }
}
