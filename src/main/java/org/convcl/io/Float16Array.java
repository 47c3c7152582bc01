package org.convcl.io;

import java.util.Arrays;
import org.convcl.DType;
import org.convcl.HalfFloats;
import org.convcl.Tensor;

/**
 * A C-order array of IEEE binary16 values as their bit patterns, the contents of a NumPy {@code float16}
 * ({@code '<f2'}) {@code .npy} file: {@link Npy#readFloat16} gives one, {@link Npy#writeFloat16} writes one. Like
 * {@link Tensor}, it holds the bits array it is given (not a copy) and a copy of the shape.
 */
public final class Float16Array {
    private final short[] bits;
    private final int[] shape;

    private Float16Array(short[] bits, int[] shape) {
        this.bits = bits;
        this.shape = shape;
    }

    /** The array of {@code bits} (binary16 bit patterns) with {@code shape}, whose element count they must match. */
    public static Float16Array of(short[] bits, int... shape) {
        if (bits == null) {
            throw new IllegalArgumentException("bits: got null; expected a short array of binary16 bit patterns");
        }
        long count = Tensor.elementCount(shape);
        if (count != bits.length) {
            throw new IllegalArgumentException("shape: " + Arrays.toString(shape) + " holds " + count
                    + " elements but the bits have " + bits.length + "; they must be equal");
        }
        return new Float16Array(bits, shape.clone());
    }

    /** {@code tensor}'s values rounded to binary16 (nearest, ties to even; see {@link HalfFloats}). */
    public static Float16Array rounded(Tensor tensor) {
        if (tensor == null) {
            throw new IllegalArgumentException("tensor: got null; expected a Tensor to round to float16");
        }
        return new Float16Array(HalfFloats.encode(DType.FLOAT16, tensor.data()), tensor.shape());
    }

    /** The binary16 bit patterns, in C order. */
    public short[] bits() {
        return bits;
    }

    public int[] shape() {
        return shape.clone();
    }

    /** The values widened to float32, which holds every binary16 value exactly. */
    public Tensor toTensor() {
        return Tensor.of(HalfFloats.decode(DType.FLOAT16, bits), shape);
    }

    @Override
    public String toString() {
        return "Float16Array" + Arrays.toString(shape);
    }
}
