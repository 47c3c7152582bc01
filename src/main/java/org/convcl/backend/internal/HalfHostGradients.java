package org.convcl.backend.internal;

import org.convcl.ConvGeometry;
import org.convcl.DType;
import org.convcl.HalfFloats;

/**
 * The kernel and bias gradients on 16-bit host data (issue 26): their checks, and the form that decodes whole
 * arrays: the operands decoded to float32 (exactly), the backend's float32 reduction, the kernel gradient rounded to
 * the type once (nearest even), the bias gradient left in float32. The semantics of the 16-bit device gradients
 * (float32 sums of the 16-bit values' products, one rounding), at the cost of float copies of the operands:
 * {@code ConvBackend}'s default, and the Java path's route for an output gradient with a non-finite value (its
 * reduction converts inside its workers otherwise). The backend comes as its
 * float32 forms (method references), so that this package does not depend on {@code org.convcl.backend}, which
 * depends on it. Stateless.
 */
public final class HalfHostGradients {
    private HalfHostGradients() {
    }

    /** A backend's float32 kernel gradient. */
    @FunctionalInterface
    public interface Float32KernelGradient {
        void kernelGradient(ConvGeometry g, float[] input, float[] outputGradient, float[] kernelGradient);
    }

    /** A backend's float32 bias gradient. */
    @FunctionalInterface
    public interface Float32BiasGradient {
        void biasGradient(int rows, int channels, float[] outputGradient, float[] biasGradient);
    }

    /**
     * A 16-bit kernel gradient's host arrays, each holding {@code dtype}'s bits: {@code dtype} float16 or
     * bfloat16, a geometry stored in float32 or in {@code dtype}, and the lengths its shapes give.
     */
    public static void checkKernelGradient(ConvGeometry g, DType dtype, short[] input, short[] outputGradient,
            short[] kernelGradient) {
        HostOperands.geometry(g);
        requireHalf("kernel gradient", dtype);
        if (g.storage() != DType.FLOAT32 && g.storage() != dtype) {
            throw new IllegalArgumentException("kernel gradient: operands of mixed dtypes (geometry storage "
                    + g.storage().cliName() + ", input, outputGradient and kernelGradient " + dtype.cliName()
                    + "); the geometry's storage must be float32 (the default) or the operands' dtype");
        }
        HostOperands.length("input", input, g.inputShape());
        HostOperands.length("outputGradient", outputGradient, g.outputShape());
        HostOperands.length("kernelGradient", kernelGradient, g.kernelShape());
    }

    /** A 16-bit output gradient's bias gradient: {@code dtype} 16-bit, the lengths, a float32 bias gradient. */
    public static void checkBiasGradient(int rows, int channels, DType dtype, short[] outputGradient,
            float[] biasGradient) {
        requireHalf("bias gradient", dtype);
        if (rows < 0 || channels < 0) {
            throw new IllegalArgumentException((rows < 0 ? "rows: got " + rows : "channels: got " + channels)
                    + "; the bias gradient's row and channel counts must be >= 0 (rows " + rows + ", channels "
                    + channels + ")");
        }
        HostOperands.length("outputGradient", outputGradient, new int[] {rows, channels});
        HostOperands.length("biasGradient", biasGradient, new int[] {channels});
    }

    /** {@code kernelGradient = round(backend's float32 kernel gradient of the decoded operands)}; checked. */
    public static void kernelGradient(Float32KernelGradient backend, ConvGeometry g, DType dtype, short[] input,
            short[] outputGradient, short[] kernelGradient) {
        float[] values = new float[kernelGradient.length];
        backend.kernelGradient(g.withStorage(DType.FLOAT32), HalfFloats.decode(dtype, input),
                HalfFloats.decode(dtype, outputGradient), values);
        HalfFloats.encode(dtype, values, 0, kernelGradient, 0, values.length);
    }

    /** {@code biasGradient = backend's float32 column sums of the decoded output gradient}; checked. */
    public static void biasGradient(Float32BiasGradient backend, int rows, int channels, DType dtype,
            short[] outputGradient, float[] biasGradient) {
        backend.biasGradient(rows, channels, HalfFloats.decode(dtype, outputGradient), biasGradient);
    }

    /** Whether every value {@code bits} holds is finite; a scan, no copy. */
    public static boolean allFinite(DType dtype, short[] bits) {
        for (short b : bits) {
            if (!Float.isFinite(HalfFloats.decode(dtype, b))) {
                return false;
            }
        }
        return true;
    }

    private static void requireHalf(String operation, DType dtype) {
        if (dtype != DType.FLOAT16 && dtype != DType.BFLOAT16) {
            throw new IllegalArgumentException("dtype: got " + (dtype == null ? "null" : dtype.cliName()) + "; the "
                    + "short[] " + operation + " takes the bits of float16 or bfloat16 (float32 operands go through "
                    + "its float[] form)");
        }
    }
}
