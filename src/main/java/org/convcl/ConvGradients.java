package org.convcl;

/**
 * The gradients of {@code sum(layer(x) * dy)} for a cotangent {@code dy} of the layer's output: with respect
 * to the input ({@code dx}, shaped like x), the kernel ({@code dkernel}, shaped like the kernel parameter and
 * masked like it when the layer has a mask) and the bias ({@code dbias}, {@code (Cout)}; null when the layer
 * has no bias). These are the {@code dx}, {@code dkernel} and {@code dbias} of the golden suite.
 */
public record ConvGradients(Tensor dx, Tensor dkernel, Tensor dbias) {
}
