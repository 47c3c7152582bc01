package org.convcl.nn;

import org.convcl.ConvGeometry;
import org.convcl.EdgePadding;
import org.convcl.Epilogue;
import org.convcl.Tensor;
import org.convcl.backend.ConvBackend;
import org.convcl.backend.internal.ConvOps;
import org.convcl.backend.internal.HostEpilogue;
import org.convcl.internal.KernelLayout;

/**
 * {@link ConvOps} on host arrays through a {@link ConvBackend}'s host-array operations: the recipes' path on the
 * Java backend, whose native memory host arrays are. In the layers' package, above the backends: it uses the
 * ConvBackend interface, which itself leans on {@code backend.internal}, where the recipes are. Storage is plain
 * {@code float[]}, released by the garbage collector. Thread-safe as the backend is.
 */
final class HostConvOps implements ConvOps<float[]> {
    private final ConvBackend backend;

    HostConvOps(ConvBackend backend) {
        this.backend = backend;
    }

    @Override
    public float[] allocate(int[] shape) {
        return new float[(int) Tensor.elementCount(shape)];
    }

    @Override
    public void release(float[] tensor) {
        // Nothing to give back: the garbage collector owns host arrays.
    }

    @Override
    public void forward(ConvGeometry g, float[] input, float[] kernel, float[] bias, Epilogue<float[]> epilogue,
            float[] output) {
        backend.forward(g, input, kernel, bias, epilogue, output);
    }

    @Override
    public void pad(EdgePadding padding, float[] source, float[] padded) {
        backend.pad(padding, source, padded);
    }

    @Override
    public void fold(EdgePadding padding, float[] padded, float[] bias, Epilogue<float[]> epilogue,
            float[] source) {
        backend.fold(padding, padded, bias, epilogue, source);
    }

    @Override
    public void kernelGradient(ConvGeometry g, float[] input, float[] outputGradient, float[] kernelGradient) {
        backend.kernelGradient(g, input, outputGradient, kernelGradient);
    }

    @Override
    public void biasGradient(float[] outputGradient, int channels, float[] biasGradient) {
        backend.biasGradient(channels == 0 ? 0 : outputGradient.length / channels, channels, outputGradient,
                biasGradient);
    }

    @Override
    public void epilogueGradient(Epilogue<float[]> epilogue, int channels, float[] conv, float[] dy, float[] dz,
            float[] dzConv, float[] dconv) {
        HostEpilogue.gradient(epilogue, channels, conv, dy, dz, dzConv, dconv);
    }

    @Override
    public float[] flipSwapped(float[] kernel, int[] kernelShape, int groups) {
        return KernelLayout.flipSwap(kernel, kernelShape, groups);
    }

    @Override
    public void multiplyInPlace(float[] values, float[] factors) {
        // values[i] * factors[i], as KernelLayout.masked computes it: the same bits in place.
        for (int i = 0; i < values.length; i++) {
            values[i] *= factors[i];
        }
    }
}
