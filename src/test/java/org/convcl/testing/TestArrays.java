package org.convcl.testing;

import java.util.Arrays;
import java.util.SplittableRandom;

/** Small arrays the kernel-path tests build their cases from: shapes, random operands, poisoned outputs. */
public final class TestArrays {
    private TestArrays() {
    }

    /** An output of {@code length} NaNs: any element a call does not write shows. */
    public static float[] poisoned(int length) {
        float[] values = new float[length];
        Arrays.fill(values, Float.NaN);
        return values;
    }

    /** {@code count} values uniform in [-1, 1) from {@code random}. */
    public static float[] uniform(SplittableRandom random, long count) {
        float[] values = new float[Math.toIntExact(count)];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (random.nextDouble() * 2 - 1);
        }
        return values;
    }

    /** {@code n} ones: unit strides or dilations, or a 1x1 kernel's spatial shape. */
    public static int[] ones(int n) {
        int[] values = new int[n];
        Arrays.fill(values, 1);
        return values;
    }

    /** {@code a} followed by {@code b}. */
    public static int[] concat(int[] a, int[] b) {
        int[] joined = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, joined, a.length, b.length);
        return joined;
    }
}
