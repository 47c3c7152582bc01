package org.convcl.backend.internal;

import org.convcl.ConvGeometry;
import org.convcl.EdgePadding;
import org.convcl.Epilogue;

/**
 * The operations a layer's forward and backward recipes ({@link ForwardRecipe}, {@link BackwardRecipe}) need on one
 * kind of storage {@code T}: host arrays through a {@code ConvBackend} ({@code org.convcl.nn.HostConvOps}; a 16-bit
 * layer's bits, {@code org.convcl.nn.HalfHostConvOps}), or device tensors on an OpenCL device
 * ({@code org.convcl.opencl.DeviceConvOps}). Writing the recipes once over this
 * interface is what keeps the two paths the same steps in the same order, and so the same bits. Each operation
 * checks its operands as the storage's own operation does; device implementations enqueue and return.
 */
public interface ConvOps<T> {
    /** New storage for a tensor of {@code shape} (zeros on the host; pooled memory on a device). */
    T allocate(int[] shape);

    /**
     * New storage for a bias gradient of {@code channels}: float32 whatever the operands' type, since it sums a
     * whole batch of products (issue 26: "dbias in float32"); the host has only float32.
     */
    default T allocateBiasGradient(int channels) {
        return allocate(new int[] {channels});
    }

    /** Gives back storage from {@link #allocate} or from an operation that returned new storage; may be no-op. */
    void release(T tensor);

    /** {@code output = conv(input, kernel) + bias} on geometry {@code g}; {@code bias} may be null. */
    default void forward(ConvGeometry g, T input, T kernel, T bias, T output) {
        forward(g, input, kernel, bias, Epilogue.none(), output);
    }

    /**
     * {@code output = epilogue(conv(input, kernel) + bias)}, the epilogue applied in the convolution's store;
     * {@code bias} may be null, {@code epilogue} {@link Epilogue#none()}.
     */
    void forward(ConvGeometry g, T input, T kernel, T bias, Epilogue<T> epilogue, T output);

    /** The {@link EdgePadding} pad: {@code source} extended into {@code padded}. */
    void pad(EdgePadding padding, T source, T padded);

    /** The {@link EdgePadding} fold, the pad's adjoint, plus {@code bias} (which may be null). */
    default void fold(EdgePadding padding, T padded, T bias, T source) {
        fold(padding, padded, bias, Epilogue.none(), source);
    }

    /** {@link #fold(EdgePadding, Object, Object, Object)} with {@code epilogue} applied in the fold's store. */
    void fold(EdgePadding padding, T padded, T bias, Epilogue<T> epilogue, T source);

    /** The kernel gradient of {@code sum(conv(input, K) * outputGradient)} into {@code kernelGradient}. */
    void kernelGradient(ConvGeometry g, T input, T outputGradient, T kernelGradient);

    /** The sum of a channels-last {@code outputGradient} over all but its {@code channels} channels. */
    void biasGradient(T outputGradient, int channels, T biasGradient);

    /** {@code KernelLayout.flipSwap(kernel, kernelShape, groups)} as new storage, which the caller releases. */
    T flipSwapped(T kernel, int[] kernelShape, int groups);

    /**
     * The backward of an {@link Epilogue} (see {@link HostEpilogue#gradient}): from the convolution's output
     * {@code conv} (its bias included) and the cotangent {@code dy} of the epilogue's output, writes
     * {@code dz = dy * act'(z)} (the gradient of the pre-activation sum, which is also the residual's and whose
     * column sums are the shift's), {@code dzConv = dz * conv} when not null (whose column sums are the scale's)
     * and {@code dconv = dz * scale[c]} (or {@code dz} without a scale). All are channels-last, {@code channels}
     * wide; the epilogue's {@code residual} must be given when the forward had one.
     */
    void epilogueGradient(Epilogue<T> epilogue, int channels, T conv, T dy, T dz, T dzConv, T dconv);

    /** {@code values *= factors} element-wise (a kernel mask on a kernel gradient). */
    void multiplyInPlace(T values, T factors);
}
