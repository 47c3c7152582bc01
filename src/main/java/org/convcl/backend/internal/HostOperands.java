package org.convcl.backend.internal;

import java.util.Arrays;
import org.convcl.ConvGeometry;
import org.convcl.DType;
import org.convcl.EdgePadding;
import org.convcl.Tensor;

/**
 * The argument checks of the backends' host-array operations, one set for every backend: a missing geometry or
 * padding, an array of the wrong length, or negative matrix sizes are refused with an
 * {@link IllegalArgumentException} naming the operand, what it holds and what it must hold, before any work (the
 * Java path would otherwise fail part-way with an index out of bounds after writing some of its output, or
 * accept an over-long array, and a device would read past a buffer). Stateless.
 */
public final class HostOperands {
    private HostOperands() {
    }

    /** A non-null geometry. */
    public static ConvGeometry geometry(ConvGeometry g) {
        if (g == null) {
            throw new IllegalArgumentException("geometry: got null; expected a ConvGeometry (ConvSpec.resolve)");
        }
        return g;
    }

    /** A non-null edge padding. */
    public static EdgePadding padding(EdgePadding padding) {
        if (padding == null) {
            throw new IllegalArgumentException("padding: got null; expected an EdgePadding");
        }
        return padding;
    }

    /** A host array holding exactly the elements of {@code shape}. */
    public static void length(String what, float[] values, int[] shape) {
        long expected = Tensor.elementCount(shape);
        if (values == null || values.length != expected) {
            throw new IllegalArgumentException(what + ": has " + (values == null ? "no array" : values.length
                    + " elements") + " but the shape " + Arrays.toString(shape) + " holds " + expected);
        }
    }

    /** The bias gradient's {@code (rows, channels)} matrix and its {@code (channels)} result. */
    public static void biasGradient(int rows, int channels, float[] outputGradient, float[] biasGradient) {
        if (rows < 0) {
            throw new IllegalArgumentException("rows: got " + rows + "; the bias gradient's row count must be >= 0"
                    + " (channels " + channels + ")");
        }
        if (channels < 0) {
            throw new IllegalArgumentException("channels: got " + channels + "; the bias gradient's channel count"
                    + " must be >= 0 (rows " + rows + ")");
        }
        length("outputGradient", outputGradient, new int[] {rows, channels});
        length("biasGradient", biasGradient, new int[] {channels});
    }

    /** A forward pass's host arrays: input, kernel, optional bias and output, as the geometry shapes them. */
    public static void forward(ConvGeometry g, float[] input, float[] kernel, float[] bias, float[] output) {
        geometry(g);
        length("input", input, g.inputShape());
        length("kernel", kernel, g.kernelShape());
        if (bias != null) {
            length("bias", bias, new int[] {g.outChannels()});
        }
        length("output", output, g.outputShape());
    }

    /**
     * A 16-bit forward pass's host arrays, each holding {@code dtype}'s bits: {@code dtype} float16 or bfloat16, a
     * geometry stored in float32 (its default) or in {@code dtype} itself, and the lengths its shapes give. Four
     * arrays of one {@code short[]} type cannot say which type their bits are: the one {@code dtype} names them
     * all, and a geometry made {@link ConvGeometry#withStorage with} the other 16-bit type is a mixed call.
     */
    public static void forward(ConvGeometry g, DType dtype, short[] input, short[] kernel, short[] bias,
            short[] output) {
        geometry(g);
        if (dtype != DType.FLOAT16 && dtype != DType.BFLOAT16) {
            throw new IllegalArgumentException("dtype: got " + (dtype == null ? "null" : dtype.cliName())
                    + "; the short[] forward takes the bits of float16 or bfloat16 (float32 operands go through "
                    + "forward(ConvGeometry, float[], float[], float[], float[]))");
        }
        if (g.storage() != DType.FLOAT32 && g.storage() != dtype) {
            throw new IllegalArgumentException("convolution: operands of mixed dtypes (geometry storage "
                    + g.storage().cliName() + ", input, kernel, bias and output " + dtype.cliName() + "); the "
                    + "geometry's storage must be float32 (the default) or the operands' dtype");
        }
        length("input", input, g.inputShape());
        length("kernel", kernel, g.kernelShape());
        if (bias != null) {
            length("bias", bias, new int[] {g.outChannels()});
        }
        length("output", output, g.outputShape());
    }

    /** A host array of 16-bit values holding exactly the elements of {@code shape}. */
    public static void length(String what, short[] values, int[] shape) {
        long expected = Tensor.elementCount(shape);
        if (values == null || values.length != expected) {
            throw new IllegalArgumentException(what + ": has " + (values == null ? "no array" : values.length
                    + " elements") + " but the shape " + Arrays.toString(shape) + " holds " + expected);
        }
    }

    /** A kernel gradient's host arrays. */
    public static void kernelGradient(ConvGeometry g, float[] input, float[] outputGradient,
            float[] kernelGradient) {
        geometry(g);
        length("input", input, g.inputShape());
        length("outputGradient", outputGradient, g.outputShape());
        length("kernelGradient", kernelGradient, g.kernelShape());
    }

    /** An edge padding's source and padded host arrays. */
    public static void pad(EdgePadding padding, float[] source, float[] padded) {
        padding(padding);
        length("source", source, padding.sourceShape());
        length("padded", padded, padding.paddedShape());
    }

    /** The fold of a padded array (and optional bias) back onto its source. */
    public static void fold(EdgePadding padding, float[] padded, float[] bias, float[] source) {
        padding(padding);
        length("padded", padded, padding.paddedShape());
        if (bias != null) {
            length("bias", bias, new int[] {padding.channels()});
        }
        length("source", source, padding.sourceShape());
    }

    /** An edge padding's source and padded arrays of 16-bit values. */
    public static void pad(EdgePadding padding, short[] source, short[] padded) {
        padding(padding);
        length("source", source, padding.sourceShape());
        length("padded", padded, padding.paddedShape());
    }

    /** The fold of a padded array of 16-bit values (and optional bias of the type) back onto its source. */
    public static void fold(EdgePadding padding, short[] padded, short[] bias, short[] source) {
        padding(padding);
        length("padded", padded, padding.paddedShape());
        if (bias != null) {
            length("bias", bias, new int[] {padding.channels()});
        }
        length("source", source, padding.sourceShape());
    }
}
