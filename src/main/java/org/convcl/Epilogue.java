package org.convcl;

import java.util.Objects;

/**
 * What a convolution's store does to each output before writing it, in one pass with the convolution (cuDNN's
 * fused bias-activation with its {@code z} input, oneDNN's post-ops):
 * {@code y = activation(scale[c] * conv + shift[c] + residual)}, where {@code conv} is the convolution's output
 * including the layer's bias and {@code c} its output channel. Every part is optional: a null {@code scale}
 * multiplies by 1, a null {@code shift} or {@code residual} adds nothing, {@link Activation#identity()} leaves the
 * sum as it is. The operations run in that order in float32 ({@code ((conv * scale) + shift) + residual}, then the
 * activation), so that the fused result equals the same steps done one after another.
 *
 * <p>{@code scale} and {@code shift} hold one value per output channel (a batch norm folded for inference:
 * {@code scale = gamma / sqrt(var + eps)}, {@code shift = beta - mean * scale}); {@code residual} has the output's
 * shape and layout (a skip connection, cuDNN's {@code z}). {@code T} is the storage the operands live in:
 * {@code float[]} for host calls, {@code org.convcl.opencl.DeviceTensor} for device calls. Immutable as a
 * record (its arrays are held by reference, not copied).
 *
 * @param activation the function applied last; never null
 * @param scale per-output-channel factors, or null
 * @param shift per-output-channel offsets, or null
 * @param residual a tensor of the output's shape added before the activation, or null
 * @param <T> the operands' storage
 */
public record Epilogue<T>(Activation activation, T scale, T shift, T residual) {
    private static final Epilogue<?> NONE = new Epilogue<>(Activation.identity(), null, null, null);

    public Epilogue {
        Objects.requireNonNull(activation, "activation");
    }

    /** The identity epilogue: the convolution's output as it is. */
    @SuppressWarnings("unchecked")
    public static <T> Epilogue<T> none() {
        return (Epilogue<T>) NONE;
    }

    /** {@code epilogue}, or {@link #none()} for null. */
    public static <T> Epilogue<T> orNone(Epilogue<T> epilogue) {
        return epilogue == null ? none() : epilogue;
    }

    /** Whether this leaves the output as it is: no scale, shift or residual, and the identity activation. */
    public boolean isNone() {
        return activation.isIdentity() && scale == null && shift == null && residual == null;
    }

    /** This epilogue with {@code residual} instead of its own. */
    public Epilogue<T> withResidual(T residual) {
        return new Epilogue<>(activation, scale, shift, residual);
    }

    /** The parts that describe it in messages: {@code scale, shift, residual, relu}. */
    @Override
    public String toString() {
        StringBuilder parts = new StringBuilder("Epilogue(");
        if (scale != null) {
            parts.append("scale, ");
        }
        if (shift != null) {
            parts.append("shift, ");
        }
        if (residual != null) {
            parts.append("residual, ");
        }
        return parts.append(activation).append(')').toString();
    }
}
