package org.convcl.nn;

import org.convcl.Tensor;

/**
 * The gradients of {@code sum(layer(x) * dy)} for a cotangent {@code dy} of the layer's output: with respect
 * to the input ({@code dx}, shaped like x), the kernel ({@code dkernel}, shaped like the kernel parameter and
 * masked like it when the layer has a mask) and the bias ({@code dbias}, {@code (Cout)}; null when the layer
 * has no bias). These are the {@code dx}, {@code dkernel} and {@code dbias} of the golden suite. A layer with an
 * epilogue also gives those of its {@code scale} and {@code shift} ({@code dscale}, {@code dshift}, {@code (Cout)};
 * null when the layer has none) and of the call's {@code residual} ({@code dresidual}, the output's shape in the
 * layer's layout; null when the call had none).
 *
 * <p>An immutable record; its tensors are new for every backward call and belong to the caller, so they are
 * as thread-safe as any {@link Tensor}.
 */
public record ConvGradients(Tensor dx, Tensor dkernel, Tensor dbias, Tensor dscale, Tensor dshift,
        Tensor dresidual) {
    /** The gradients of a layer without an epilogue. */
    public ConvGradients(Tensor dx, Tensor dkernel, Tensor dbias) {
        this(dx, dkernel, dbias, null, null, null);
    }
}
