package org.convcl.backend.internal;

import org.convcl.ConvGeometry;
import org.convcl.DType;
import org.convcl.Epilogue;
import org.convcl.HalfFloats;

/**
 * The 16-bit host forward by whole-array conversion: every operand decoded to float32 (exactly), the float32
 * forward, its output rounded to the type (nearest even, {@link HalfFloats}). The same values as a 16-bit kernel
 * computes (the products of 16-bit operands and their float32 sums), at the cost of float copies of the operands:
 * {@code ConvBackend}'s default for backends without a 16-bit path, and the Java path's for the rare calls its
 * in-task conversion leaves out. The backend comes as its float32 forward (a method reference), so that this
 * package does not depend on {@code org.convcl.backend}, which depends on it. Stateless.
 */
public final class DecodedHalfForward {
    private DecodedHalfForward() {
    }

    /** A backend's float32 forward with its epilogue form's contract: a null epilogue is the plain forward. */
    @FunctionalInterface
    public interface Float32Forward {
        void forward(ConvGeometry g, float[] input, float[] kernel, float[] bias, Epilogue<float[]> epilogue,
                float[] output);
    }

    /** {@code output = round(conv(decode(input), decode(kernel)) + decode(bias))}; arrays already checked. */
    public static void forward(Float32Forward backend, ConvGeometry g, DType dtype, short[] input, short[] kernel,
            short[] bias, short[] output) {
        forward(backend, g, dtype, input, kernel, bias, null, null, output);
    }

    /**
     * {@code output = round(epilogue(conv(decode(input), decode(kernel)) + decode(bias)))}, the epilogue in float32
     * with {@code decode(residual)} ({@link HalfHostEpilogue}); arrays already checked.
     */
    public static void forward(Float32Forward backend, ConvGeometry g, DType dtype, short[] input, short[] kernel,
            short[] bias, Epilogue<float[]> epilogue, short[] residual, short[] output) {
        float[] values = new float[output.length];
        Epilogue<float[]> wide = HalfHostEpilogue.isNone(epilogue, residual) ? null
                : HalfHostEpilogue.withResidual(epilogue, residual == null ? null : HalfFloats.decode(dtype, residual));
        backend.forward(g.withStorage(DType.FLOAT32), HalfFloats.decode(dtype, input),
                HalfFloats.decode(dtype, kernel), bias == null ? null : HalfFloats.decode(dtype, bias), wide, values);
        HalfFloats.encode(dtype, values, 0, output, 0, values.length);
    }
}
