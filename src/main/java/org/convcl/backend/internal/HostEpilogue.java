package org.convcl.backend.internal;

import org.convcl.Activation;
import org.convcl.Epilogue;

/**
 * The {@link Epilogue} on host arrays: the checks of its operands against an output, and the store's arithmetic
 * over a range of a channels-last output, {@code y = act(scale[c] * y + shift[c] + residual)} in that order in
 * float32. The Java path applies it to each block of output right after the block is computed, while the block is
 * still in cache (never as a pass of its own over the whole output); a backend without a fused store applies it to
 * the whole output. Stateless.
 */
public final class HostEpilogue {
    private HostEpilogue() {
    }

    /**
     * Refuses an epilogue whose parts do not fit an output of {@code outputLength} elements with {@code channels}
     * channels: {@code scale} and {@code shift} must hold {@code channels} values, {@code residual} the output's
     * {@code outputLength}. Names the part, its length and the rule.
     */
    public static void check(Epilogue<float[]> epilogue, int channels, long outputLength) {
        if (epilogue == null) {
            return;
        }
        perChannel("scale", epilogue.scale(), channels);
        perChannel("shift", epilogue.shift(), channels);
        float[] residual = epilogue.residual();
        if (residual != null && residual.length != outputLength) {
            throw new IllegalArgumentException("residual: has " + residual.length + " elements but the output has "
                    + outputLength + "; a residual must have the output's shape");
        }
    }

    private static void perChannel(String what, float[] values, int channels) {
        if (values != null && values.length != channels) {
            throw new IllegalArgumentException(what + ": has " + values.length + " values but the output has "
                    + channels + " channels; " + what + " holds one value per output channel");
        }
    }

    /**
     * Applies {@code epilogue} to {@code output[from, to)} of a channels-last output with {@code channels}
     * channels (so element {@code i} is channel {@code i % channels}), in place. {@code from} need not start a row.
     */
    public static void apply(Epilogue<float[]> epilogue, int channels, float[] output, int from, int to) {
        if (epilogue == null || epilogue.isNone() || from >= to) {
            return;
        }
        float[] scale = epilogue.scale();
        float[] shift = epilogue.shift();
        float[] residual = epilogue.residual();
        Activation activation = epilogue.activation();
        boolean identity = activation.isIdentity();
        if (scale == null && shift == null && (identity || activation.kind() == Activation.Kind.RELU)) {
            // The common store (a residual and/or ReLU) in loops the JIT vectorises: several times faster than
            // the general loop's per-element branches and dispatch, with the same bits (Math.max(v, 0f) is relu:
            // +0 for -0, the NaN itself for NaN).
            residualRelu(residual, !identity, output, from, to);
            return;
        }
        int c = from % channels;
        for (int i = from; i < to; i++) {
            float v = output[i];
            if (scale != null) {
                v *= scale[c];
            }
            if (shift != null) {
                v += shift[c];
            }
            if (residual != null) {
                v += residual[i];
            }
            output[i] = identity ? v : activation.apply(v);
            if (++c == channels) {
                c = 0;
            }
        }
    }

    private static void residualRelu(float[] residual, boolean relu, float[] output, int from, int to) {
        if (residual == null) {
            for (int i = from; i < to; i++) {
                output[i] = Math.max(output[i], 0f);
            }
        } else if (relu) {
            for (int i = from; i < to; i++) {
                output[i] = Math.max(output[i] + residual[i], 0f);
            }
        } else {
            for (int i = from; i < to; i++) {
                output[i] += residual[i];
            }
        }
    }

    /**
     * The epilogue's backward on host arrays, as jax differentiates {@code act(conv * scale + shift + residual)}:
     * for each element, with {@code z} the pre-activation sum recomputed from {@code conv} (the convolution's output,
     * bias included) exactly as {@link #apply} forms it, {@code dz = dy * act'(z)} ({@link Activation#derivative}),
     * {@code dzConv = dz * conv} (when {@code dzConv} is not null) and {@code dconv = dz * scale[c]} (or {@code dz}).
     * Every array is channels-last with {@code channels} channels and the output's length; {@code dz} may be
     * {@code dconv} when there is no scale.
     */
    public static void gradient(Epilogue<float[]> epilogue, int channels, float[] conv, float[] dy, float[] dz,
            float[] dzConv, float[] dconv) {
        float[] scale = epilogue.scale();
        float[] shift = epilogue.shift();
        float[] residual = epilogue.residual();
        Activation activation = epilogue.activation();
        int c = 0;
        for (int i = 0; i < conv.length; i++) {
            float v = conv[i];
            if (scale != null) {
                v *= scale[c];
            }
            if (shift != null) {
                v += shift[c];
            }
            if (residual != null) {
                v += residual[i];
            }
            float d = dy[i] * activation.derivative(v);
            dz[i] = d;
            if (dzConv != null) {
                dzConv[i] = d * conv[i];
            }
            dconv[i] = scale != null ? d * scale[c] : d;
            if (++c == channels) {
                c = 0;
            }
        }
    }

    /** {@link #apply} over the whole output. */
    public static void apply(Epilogue<float[]> epilogue, int channels, float[] output) {
        apply(epilogue, channels, output, 0, output.length);
    }
}
