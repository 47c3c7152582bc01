package org.convcl.backend.internal;

import org.convcl.ConvGeometry;
import org.convcl.EdgePadding;

/**
 * The operations a layer's forward and backward recipes ({@link ForwardRecipe}, {@link BackwardRecipe}) need on one
 * kind of storage {@code T}: host arrays through a {@code ConvBackend} ({@code org.convcl.nn.HostConvOps}), or
 * device tensors on an OpenCL device ({@code org.convcl.opencl.DeviceConvOps}). Writing the recipes once over this
 * interface is what keeps the two paths the same steps in the same order, and so the same bits. Each operation
 * checks its operands as the storage's own operation does; device implementations enqueue and return.
 */
public interface ConvOps<T> {
    /** New storage for a tensor of {@code shape} (zeros on the host; pooled memory on a device). */
    T allocate(int[] shape);

    /** Gives back storage from {@link #allocate} or from an operation that returned new storage; may be no-op. */
    void release(T tensor);

    /** {@code output = conv(input, kernel) + bias} on geometry {@code g}; {@code bias} may be null. */
    void forward(ConvGeometry g, T input, T kernel, T bias, T output);

    /** The {@link EdgePadding} pad: {@code source} extended into {@code padded}. */
    void pad(EdgePadding padding, T source, T padded);

    /** The {@link EdgePadding} fold, the pad's adjoint, plus {@code bias} (which may be null). */
    void fold(EdgePadding padding, T padded, T bias, T source);

    /** The kernel gradient of {@code sum(conv(input, K) * outputGradient)} into {@code kernelGradient}. */
    void kernelGradient(ConvGeometry g, T input, T outputGradient, T kernelGradient);

    /** The sum of a channels-last {@code outputGradient} over all but its {@code channels} channels. */
    void biasGradient(T outputGradient, int channels, T biasGradient);

    /** {@code KernelLayout.flipSwap(kernel, kernelShape, groups)} as new storage, which the caller releases. */
    T flipSwapped(T kernel, int[] kernelShape, int groups);

    /** {@code values *= factors} element-wise (a kernel mask on a kernel gradient). */
    void multiplyInPlace(T values, T factors);
}
