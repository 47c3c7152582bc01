package org.convcl.backend.internal;

import org.convcl.DType;
import org.convcl.EdgePadding;
import org.convcl.Epilogue;
import org.convcl.HalfFloats;

/**
 * The {@link EdgePadding} maps on 16-bit host arrays (float16 or bfloat16 bits, issue 26), as on 16-bit device
 * tensors: the pad copies values exactly; the fold sums them in float32, adds the bias and applies the epilogue in
 * float32 (scale and shift float32, the residual of the type), and rounds each result once. The fold decodes its
 * padded operand as a whole array for now: its operands are a transposed convolution's unwrapped output or a padded
 * input's gradient, which the recipes compute just before, and the float32 fold ({@link CpuEdges#fold}) runs on the
 * copy. Stateless.
 */
public final class HalfHostEdges {
    private HalfHostEdges() {
    }

    /** {@link CpuEdges#pad(EdgePadding, short[], short[])}, with the lengths checked. */
    public static void pad(EdgePadding padding, short[] source, short[] padded) {
        HostOperands.pad(padding, source, padded);
        CpuEdges.pad(padding, source, padded);
    }

    /**
     * Overwrites {@code source} with the fold of {@code padded}, plus {@code bias} (may be null), then
     * {@code epilogue} (null or {@link Epilogue#none()} for none; its own residual must be null) with
     * {@code residual} (bits of the type, or null), in float32, each element rounded once to {@code dtype}.
     */
    public static void fold(EdgePadding padding, DType dtype, short[] padded, short[] bias,
            Epilogue<float[]> epilogue, short[] residual, short[] source) {
        HostOperands.fold(padding, padded, bias, source);
        HalfHostEpilogue.check(epilogue, dtype, residual, padding.channels(), source.length);
        float[] sums = new float[source.length];
        CpuEdges.fold(padding, HalfFloats.decode(dtype, padded), bias == null ? null : HalfFloats.decode(dtype, bias),
                HalfHostEpilogue.withResidual(epilogue, residual == null ? null : HalfFloats.decode(dtype, residual)),
                sums);
        HalfFloats.encode(dtype, sums, 0, source, 0, sums.length);
    }
}
