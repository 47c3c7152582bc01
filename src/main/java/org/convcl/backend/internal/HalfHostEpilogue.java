package org.convcl.backend.internal;

import org.convcl.Activation;
import org.convcl.DType;
import org.convcl.Epilogue;

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
}
