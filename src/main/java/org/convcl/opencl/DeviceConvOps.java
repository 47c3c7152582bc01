package org.convcl.opencl;

import java.util.Arrays;
import java.util.function.IntFunction;
import org.convcl.ConvGeometry;
import org.convcl.DType;
import org.convcl.EdgePadding;
import org.convcl.Epilogue;
import org.convcl.backend.internal.BackwardRecipe;
import org.convcl.backend.internal.ConvOps;
import org.convcl.backend.internal.ConvStep;
import org.convcl.backend.internal.ForwardRecipe;
import org.convcl.internal.KernelLayout;

/**
 * Internal, public only for the layers of {@code org.convcl.nn} (no compatibility promise, left out of the Javadoc):
 * {@link ConvOps} on device tensors of one {@link OpenClBackend}, and the other device-side operations the layers
 * need (axis moves, the flipped kernel). The backend's kernel-layout operations are package-private; the layers
 * reach them through here. It stays in this package, not under {@code opencl.internal}, because it needs them, and
 * a class there that used this package would close a package cycle. Every call enqueues and returns; temporaries go back to the
 * backend's pool, which keeps a buffer until the work enqueued with it is done. Immutable and thread-safe.
 */
public final class DeviceConvOps implements ConvOps<DeviceTensor> {
    private final OpenClBackend backend;
    /** The type of the tensors {@link #allocate} makes: the operands' own, so a recipe's temporaries match them. */
    private final DType dtype;

    /** Operations whose temporaries are float32. */
    public DeviceConvOps(OpenClBackend backend) {
        this(backend, DType.FLOAT32);
    }

    /** Operations whose temporaries (and results the recipes allocate, but a bias gradient) are {@code dtype}. */
    public DeviceConvOps(OpenClBackend backend, DType dtype) {
        this.backend = backend;
        this.dtype = dtype;
    }

    /** These operations with temporaries of {@code operand}'s type (a null operand is refused by the call). */
    private DeviceConvOps forOperand(DeviceTensor operand) {
        return operand == null || operand.dtype() == dtype ? this : new DeviceConvOps(backend, operand.dtype());
    }

    public OpenClBackend backend() {
        return backend;
    }

    /**
     * {@link ForwardRecipe} on device tensors: {@code output = step(input, kernel) + bias}. With a wrap-around fold,
     * {@code output} is checked against the step's output first, before the unwrapped temporary is allocated.
     */
    public void forward(ConvStep step, DeviceTensor input, DeviceTensor kernel, DeviceTensor bias,
            DeviceTensor output) {
        forward(step, input, kernel, bias, Epilogue.none(), output);
    }

    /** {@link #forward(ConvStep, DeviceTensor, DeviceTensor, DeviceTensor, DeviceTensor)} with {@code epilogue}. */
    public void forward(ConvStep step, DeviceTensor input, DeviceTensor kernel, DeviceTensor bias,
            Epilogue<DeviceTensor> epilogue, DeviceTensor output) {
        if (step.outputFold() != null && !Arrays.equals(output.shape(), step.outputShape())) {
            throw new IllegalArgumentException("output: shape " + Arrays.toString(output.shape())
                    + " does not match the layer's output " + Arrays.toString(step.outputShape()));
        }
        ForwardRecipe.run(forOperand(input), step, input, kernel, bias, epilogue, output);
    }

    /** {@link BackwardRecipe} on device tensors; enqueues and returns, the caller closes the gradients. */
    public BackwardRecipe.Gradients<DeviceTensor> backward(ConvStep step, DeviceTensor x, DeviceTensor dy,
            IntFunction<DeviceTensor> flippedKernel, DeviceTensor mask, boolean withBias) {
        return BackwardRecipe.run(forOperand(x), step, x, dy, flippedKernel, mask, withBias);
    }

    /**
     * {@link BackwardRecipe} with an epilogue on device tensors (the convolution's output recomputed from {@code x}
     * with {@code kernel} and {@code bias}); enqueues and returns, the caller closes the gradients.
     */
    public BackwardRecipe.Gradients<DeviceTensor> backward(ConvStep step, DeviceTensor x, DeviceTensor kernel,
            DeviceTensor bias, Epilogue<DeviceTensor> epilogue, DeviceTensor dy, IntFunction<DeviceTensor> flippedKernel,
            DeviceTensor mask, boolean withBias) {
        return BackwardRecipe.run(forOperand(x), step, x, kernel, bias, epilogue, dy, flippedKernel, mask,
                withBias);
    }

    /** The backend's transpose: {@code source}'s {@code (batch, rows, cols)} as {@code (batch, cols, rows)}. */
    public void transpose(DeviceTensor source, int batch, int rows, int cols, DeviceTensor target) {
        backend.transpose(source, batch, rows, cols, target);
    }

    @Override
    public DeviceTensor allocate(int[] shape) {
        return DeviceTensor.allocate(backend, dtype, shape);
    }

    @Override
    public DeviceTensor allocateBiasGradient(int channels) {
        return backend.allocate(channels);
    }

    @Override
    public void release(DeviceTensor tensor) {
        tensor.close();
    }

    @Override
    public void forward(ConvGeometry g, DeviceTensor input, DeviceTensor kernel, DeviceTensor bias,
            Epilogue<DeviceTensor> epilogue, DeviceTensor output) {
        backend.forward(g, input, kernel, bias, epilogue, output);
    }

    @Override
    public void pad(EdgePadding padding, DeviceTensor source, DeviceTensor padded) {
        backend.pad(padding, source, padded);
    }

    @Override
    public void fold(EdgePadding padding, DeviceTensor padded, DeviceTensor bias, Epilogue<DeviceTensor> epilogue,
            DeviceTensor source) {
        backend.fold(padding, padded, bias, epilogue, source);
    }

    @Override
    public void kernelGradient(ConvGeometry g, DeviceTensor input, DeviceTensor outputGradient,
            DeviceTensor kernelGradient) {
        backend.kernelGradient(g, input, outputGradient, kernelGradient);
    }

    /** The device knows the channel count from {@code biasGradient}'s shape; {@code channels} is its size. */
    @Override
    public void biasGradient(DeviceTensor outputGradient, int channels, DeviceTensor biasGradient) {
        backend.biasGradient(outputGradient, biasGradient);
    }

    /** The kernel's own shape is used; {@code kernelShape} is the same (the host needs it, a tensor carries it). */
    @Override
    public void epilogueGradient(Epilogue<DeviceTensor> epilogue, int channels, DeviceTensor conv, DeviceTensor dy,
            DeviceTensor dz, DeviceTensor dzConv, DeviceTensor dconv) {
        backend.epilogueGradient(epilogue, channels, conv, dy, dz, dzConv, dconv);
    }

    @Override
    public DeviceTensor flipSwapped(DeviceTensor kernel, int[] kernelShape, int groups) {
        DeviceTensor result = DeviceTensor.allocate(backend, kernel == null ? DType.FLOAT32 : kernel.dtype(),
                KernelLayout.flipSwapShape(kernel.shape(), groups));
        try {
            backend.flipSwap(kernel, groups, result);
            return result;
        } catch (RuntimeException e) {
            result.close();
            throw e;
        }
    }

    @Override
    public void multiplyInPlace(DeviceTensor values, DeviceTensor factors) {
        backend.multiplyInPlace(values, factors);
    }
}
