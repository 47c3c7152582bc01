package org.convcl.backend.internal;

/**
 * Integer arithmetic the backends' blocking, phase and indexing rules share (Java 17 has no {@code Math.ceilDiv}).
 * Internal: public only for the CPU kernels ({@code backend.cpu}) and the OpenCL plans; not part of the API.
 *
 * @hidden
 */
public final class IntMath {
    private IntMath() {
    }

    /** The greatest common divisor of {@code a} and {@code b} (non-negative; gcd(0, 0) = 0). */
    public static int gcd(int a, int b) {
        while (b != 0) {
            int t = a % b;
            a = b;
            b = t;
        }
        return Math.abs(a);
    }

    /** {@code a / b} rounded up, for {@code a >= 0} and {@code b > 0}. */
    public static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    /**
     * The row-major strides of an array of {@code sizes}, in elements: the last dim's is 1, each other dim's is the
     * product of the sizes after it.
     */
    public static int[] rowMajorStrides(int[] sizes) {
        int[] strides = new int[sizes.length];
        int stride = 1;
        for (int d = sizes.length - 1; d >= 0; d--) {
            strides[d] = stride;
            stride *= sizes[d];
        }
        return strides;
    }
}
