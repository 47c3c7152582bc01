package org.convcl.backend.internal;

/**
 * Integer arithmetic the backends' blocking and phase rules share (Java 17 has no {@code Math.ceilDiv}).
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
}
