package org.convcl;

import java.util.Arrays;

/**
 * A host array of float32 values with a row-major (C order) shape. The data array is shared, not copied:
 * {@link #data()} returns the live array so that large tensors move without copies.
 *
 * <p>A Tensor's shape is immutable; its values are as thread-safe as the array they live in (safe to read
 * from many threads, not to write while others read).
 */
public final class Tensor {
    private final float[] data;
    private final int[] shape;

    private Tensor(float[] data, int[] shape) {
        this.data = data;
        this.shape = shape;
    }

    /** Wraps {@code data} (not copied) as a tensor of {@code shape}. */
    public static Tensor of(float[] data, int... shape) {
        if (data == null) {
            throw new IllegalArgumentException("data: got null; expected a float array");
        }
        long count = elementCount(shape);
        if (count != data.length) {
            throw new IllegalArgumentException("shape: " + Arrays.toString(shape) + " holds " + count
                    + " elements but the data has " + data.length + "; they must be equal");
        }
        return new Tensor(data, shape.clone());
    }

    /** A tensor of zeros. */
    public static Tensor zeros(int... shape) {
        long count = elementCount(shape);
        return new Tensor(new float[(int) count], shape.clone());
    }

    /** Element count of {@code shape}, refusing negative dims and counts a Java array cannot hold. */
    public static long elementCount(int... shape) {
        if (shape == null) {
            throw new IllegalArgumentException("shape: got null; expected the dims of a shape, each >= 0");
        }
        long count = 1;
        for (int size : shape) {
            if (size < 0) {
                throw new IllegalArgumentException("shape: " + Arrays.toString(shape)
                        + " has a negative dim; sizes must be >= 0");
            }
            count *= size;
            if (count > ConvGeometry.MAX_ELEMENTS) {
                throw new IllegalArgumentException("shape: " + Arrays.toString(shape) + " holds more than "
                        + ConvGeometry.MAX_ELEMENTS + " elements, the most a Java array can hold");
            }
        }
        return count;
    }

    /** The live backing array. */
    public float[] data() {
        return data;
    }

    public int[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    public int dim(int axis) {
        return shape[axis];
    }

    public int size() {
        return data.length;
    }

    /** The same data under another shape with the same element count. */
    public Tensor reshape(int... newShape) {
        return of(data, newShape);
    }

    /** A deep copy. */
    public Tensor copy() {
        return new Tensor(data.clone(), shape.clone());
    }

    @Override
    public String toString() {
        return "Tensor" + Arrays.toString(shape);
    }
}
