package org.convcl.backend.internal;

import org.convcl.Activation;
import org.convcl.DType;
import org.convcl.Epilogue;
import org.convcl.HalfFloats;

/**
 * The {@link Epilogue} of a 16-bit host forward (issue 26), as on 16-bit device tensors: {@code scale} and
 * {@code shift} stay float32 (an {@code Epilogue<float[]>}), the residual comes apart as bits of the output's
 * type, and the epilogue runs in float32 on the float32 sum before the output's one rounding to the type. So the
 * fused result is the float32 forward on the decoded operands, its epilogue with the decoded residual, rounded once.
 * Stateless.
 */
public final class HalfHostEpilogue {
    private HalfHostEpilogue() {
    }

    /**
     * Refuses an epilogue that does not fit a 16-bit output of {@code outputLength} elements with {@code channels}
     * channels: {@code scale} and {@code shift} as {@link HostEpilogue#check} says, a float32 residual inside
     * {@code epilogue} (the 16-bit one comes as {@code residual}), a {@code residual} of another length.
     */
    public static void check(Epilogue<float[]> epilogue, DType dtype, short[] residual, int channels,
            long outputLength) {
        HostEpilogue.check(epilogue, channels, outputLength);
        if (epilogue != null && epilogue.residual() != null) {
            throw new IllegalArgumentException("epilogue residual: a float[] of " + epilogue.residual().length
                    + " elements with " + dtype.cliName() + " operands; a 16-bit forward takes its residual as "
                    + "short[] bits of the output's dtype, in the residual parameter (scale and shift stay float32)");
        }
        if (residual != null && residual.length != outputLength) {
            throw new IllegalArgumentException("residual: has " + residual.length + " elements but the output has "
                    + outputLength + "; a residual must have the output's shape");
        }
    }

    /** Whether the call is a plain forward: no epilogue (null or none) and no residual. */
    public static boolean isNone(Epilogue<float[]> epilogue, short[] residual) {
        return residual == null && (epilogue == null || epilogue.isNone());
    }

    /**
     * The float32 epilogue that {@code epilogue} (null: identity) with the decoded {@code residual} (which may be
     * null) applies: a residual laid out as the output that the caller's float scratch holds.
     */
    public static Epilogue<float[]> withResidual(Epilogue<float[]> epilogue, float[] residual) {
        if (epilogue == null) {
            return new Epilogue<>(Activation.identity(), null, null, residual);
        }
        return new Epilogue<>(epilogue.activation(), epilogue.scale(), epilogue.shift(), residual);
    }

    /**
     * The epilogue's backward on 16-bit host arrays, as {@code epilogue_gradient.cl} computes it on 16-bit device
     * tensors: per element, the pre-activation sum {@code z} recomputed in float32 from the decoded {@code conv}
     * (scale and shift float32, {@code residual} bits of the type or null) as {@link HostEpilogue#apply} forms it,
     * {@code d = dy * act'(z)} in float32, then each result rounded once to {@code dtype}: {@code dz = d},
     * {@code dzConv = d * conv} (when not null) and {@code dconv = d * scale[c]} (or {@code d}). {@code epilogue}'s
     * own residual must be null; {@code dz} may be {@code dconv} when there is no scale. Element-wise: it decodes
     * what it reads and rounds what it writes, so no array is copied.
     */
    public static void gradient(Epilogue<float[]> epilogue, DType dtype, short[] residual, int channels,
            short[] conv, short[] dy, short[] dz, short[] dzConv, short[] dconv) {
        check(epilogue, dtype, residual, channels, conv.length);
        float[] scale = epilogue.scale();
        float[] shift = epilogue.shift();
        Activation activation = epilogue.activation();
        int c = 0;
        for (int i = 0; i < conv.length; i++) {
            float convValue = HalfFloats.decode(dtype, conv[i]);
            float v = convValue;
            if (scale != null) {
                v *= scale[c];
            }
            if (shift != null) {
                v += shift[c];
            }
            if (residual != null) {
                v += HalfFloats.decode(dtype, residual[i]);
            }
            float d = HalfFloats.decode(dtype, dy[i]) * activation.derivative(v);
            dz[i] = HalfFloats.encode(dtype, d);
            if (dzConv != null) {
                dzConv[i] = HalfFloats.encode(dtype, d * convValue);
            }
            dconv[i] = HalfFloats.encode(dtype, scale != null ? d * scale[c] : d);
            if (++c == channels) {
                c = 0;
            }
        }
    }
}
