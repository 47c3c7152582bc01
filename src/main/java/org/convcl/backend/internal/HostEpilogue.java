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

    /**
     * {@code epilogue} as a store that writes {@code output} may use it: unchanged, unless its residual is
     * {@code output} itself (the in-place residual add), then with a copy of the residual taken now. A store that
     * writes sums before it adds the residual (a block's raw sums, a reduction's partial sums, a fold's bias) would
     * otherwise read them back as the residual; the copy costs the memory the aliasing saves, so most of the Java
     * path's forward routes copy each task's part of the residual aside instead (the matrix multiplies and the row
     * kernels: {@code CpuBackend}).
     */
    public static Epilogue<float[]> residualReadFirst(Epilogue<float[]> epilogue, float[] output) {
        if (epilogue == null || epilogue.residual() != output || output == null) {
            return epilogue;
        }
        return epilogue.withResidual(output.clone());
    }

    private static void perChannel(String what, float[] values, int channels) {
        if (values != null && values.length != channels) {
            throw new IllegalArgumentException(what + ": has " + values.length + " values but the output has "
                    + channels + " channels; " + what + " holds one value per output channel");
        }
    }

    /** Elements the stages of {@link #apply} run over at a time: a piece that stays in the first-level cache. */
    private static final int CHUNK = 2048;

    /**
     * Applies {@code epilogue} to {@code output[from, to)} of a channels-last output with {@code channels}
     * channels (so element {@code i} is channel {@code i % channels}), in place. {@code from} need not start a row.
     *
     * <p>Each element gets {@code act(((v * scale[c]) + shift[c]) + residual[i])}, every operation rounded to float32
     * in that order. The stages run one after another over a cache-sized piece, each a plain loop the JIT
     * vectorises (the scale and shift ones along a position's channels), which gives the same bits as the
     * element-by-element formula at several times its speed.
     */
    public static void apply(Epilogue<float[]> epilogue, int channels, float[] output, int from, int to) {
        if (epilogue == null || epilogue.isNone() || from >= to) {
            return;
        }
        for (int start = from; start < to; start += CHUNK) {
            applyChunk(epilogue, channels, output, start, Math.min(to, start + CHUNK));
        }
    }

    private static void applyChunk(Epilogue<float[]> epilogue, int channels, float[] output, int from, int to) {
        float[] scale = epilogue.scale();
        if (scale != null) {
            for (int i = from, c = from % channels; i < to; i += channels - c, c = 0) {
                multiply(output, i, scale, c, Math.min(to - i, channels - c));
            }
        }
        float[] shift = epilogue.shift();
        if (shift != null) {
            for (int i = from, c = from % channels; i < to; i += channels - c, c = 0) {
                add(output, i, shift, c, Math.min(to - i, channels - c));
            }
        }
        float[] residual = epilogue.residual();
        if (residual != null) {
            add(output, from, residual, from, to - from);
        }
        activate(epilogue.activation(), output, from, to);
    }

    private static void multiply(float[] output, int at, float[] factors, int first, int count) {
        for (int j = 0; j < count; j++) {
            output[at + j] *= factors[first + j];
        }
    }

    private static void add(float[] output, int at, float[] terms, int first, int count) {
        for (int j = 0; j < count; j++) {
            output[at + j] += terms[first + j];
        }
    }

    /** The activation over {@code output[from, to)}, with loops of their own for the piecewise-linear functions. */
    private static void activate(Activation activation, float[] output, int from, int to) {
        switch (activation.kind()) {
            case IDENTITY:
                return;
            case RELU:
                // Math.max(v, 0f) is relu's bits: +0 for -0, the NaN itself for NaN.
                for (int i = from; i < to; i++) {
                    output[i] = Math.max(output[i], 0f);
                }
                return;
            case RELU6:
                for (int i = from; i < to; i++) {
                    output[i] = Math.min(Math.max(output[i], 0f), 6f);
                }
                return;
            case LEAKY_RELU: {
                float slope = activation.parameter();
                for (int i = from; i < to; i++) {
                    float v = output[i];
                    output[i] = v >= 0f ? v : slope * v;
                }
                return;
            }
            default:
                for (int i = from; i < to; i++) {
                    output[i] = activation.apply(output[i]);
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
