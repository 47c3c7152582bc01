package org.convcl.testing;

import java.util.SplittableRandom;
import org.convcl.Tensor;

/** Random float32 tensors in [-1, 1) from a caller-owned generator, so that tests are reproducible. */
public final class RandomTensors {
    private RandomTensors() {
    }

    public static Tensor uniform(SplittableRandom random, int... shape) {
        float[] values = new float[(int) Tensor.elementCount(shape)];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextDouble(-1, 1);
        }
        return Tensor.of(values, shape);
    }
}
