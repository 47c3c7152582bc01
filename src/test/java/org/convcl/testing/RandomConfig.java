package org.convcl.testing;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.convcl.Padding;

/**
 * A random valid configuration of every knob of flax nnx.Conv, small enough for the naive reference:
 * spatial rank 1 to 4, zero to two batch dims (sizes may be 0), strides, input and kernel dilation (one int
 * or one per dim), groups, every padding mode including SAME_LOWER and negative explicit pads, bias and mask.
 * Constraints that flax itself imposes are respected by construction, so that every configuration must be
 * computed, never refused.
 */
public record RandomConfig(long seed, int[] inputShape, int[] kernelShape, int[] strides, int[] inputDilation,
        int[] kernelDilation, Padding padding, int groups, boolean bias, boolean mask) {

    private static final Padding.Named[] NAMED = Padding.Named.values();

    public static RandomConfig generate(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int rank = 1 + random.nextInt(4);
        int maxSpatial = new int[] {0, 9, 7, 5, 4}[rank];
        int maxKernel = rank == 4 ? 2 : 3;
        int batchDims = random.nextInt(3);
        int[] batch = new int[batchDims];
        for (int i = 0; i < batchDims; i++) {
            batch[i] = random.nextInt(10) == 0 ? 0 : 1 + random.nextInt(2);
        }
        int groups = 1 + random.nextInt(3);
        int cin = groups * (1 + random.nextInt(2));
        int cout = groups * (1 + random.nextInt(3));
        int[] kernelSpatial = new int[rank];
        for (int d = 0; d < rank; d++) {
            kernelSpatial[d] = 1 + random.nextInt(maxKernel);
        }

        Padding padding = randomPadding(random, rank);
        boolean wrapsOrMirrors = padding == Padding.CIRCULAR || padding == Padding.REFLECT;
        int[] spatial = new int[rank];
        for (int d = 0; d < rank; d++) {
            // Size-0 dims are rare, and impossible where the input must be wrapped or mirrored.
            spatial[d] = (!wrapsOrMirrors && random.nextInt(12) == 0) ? 0 : 1 + random.nextInt(maxSpatial);
        }
        int[] strides = perDim(random, rank, 3);
        int[] kernelDilation = perDim(random, rank, 3);
        // jax refuses any string padding together with input dilation.
        int[] inputDilation = padding.isNamed() ? new int[] {1} : perDim(random, rank, 3);
        padding = keepWithinInput(padding, spatial, inputDilation, rank);

        int[] inputShape = new int[batchDims + rank + 1];
        System.arraycopy(batch, 0, inputShape, 0, batchDims);
        System.arraycopy(spatial, 0, inputShape, batchDims, rank);
        inputShape[inputShape.length - 1] = cin;
        int[] kernelShape = Arrays.copyOf(kernelSpatial, rank + 2);
        kernelShape[rank] = cin / groups;
        kernelShape[rank + 1] = cout;
        return new RandomConfig(seed, inputShape, kernelShape, strides, inputDilation, kernelDilation, padding,
                groups, random.nextBoolean(), random.nextInt(4) == 0);
    }

    private static Padding randomPadding(SplittableRandom random, int rank) {
        int choice = random.nextInt(NAMED.length + 3);
        if (choice < NAMED.length) {
            Padding.Named named = NAMED[choice];
            // CAUSAL exists for rank 1 only.
            return named == Padding.CAUSAL && rank != 1 ? Padding.SAME_LOWER : named;
        }
        if (choice == NAMED.length) {
            return Padding.of(random.nextInt(-1, 4));
        }
        int[] lo = new int[rank];
        int[] hi = new int[rank];
        boolean symmetric = choice == NAMED.length + 1;
        for (int d = 0; d < rank; d++) {
            lo[d] = random.nextInt(-3, 5);
            hi[d] = symmetric ? lo[d] : random.nextInt(-3, 5);
        }
        return new Padding.Explicit(lo, hi);
    }

    /** Raises negative pads that would crop more than the (dilated) input has: jax refuses those. */
    private static Padding keepWithinInput(Padding padding, int[] spatial, int[] inputDilation, int rank) {
        int[] lo = new int[rank];
        int[] hi = new int[rank];
        if (padding instanceof Padding.Uniform uniform) {
            Arrays.fill(lo, uniform.amount());
            Arrays.fill(hi, uniform.amount());
        } else if (padding instanceof Padding.Explicit explicit) {
            lo = explicit.lo();
            hi = explicit.hi();
        } else {
            return padding;
        }
        boolean changed = false;
        for (int d = 0; d < rank; d++) {
            int dilation = inputDilation.length == 1 ? inputDilation[0] : inputDilation[d];
            int dilated = spatial[d] == 0 ? 0 : (spatial[d] - 1) * dilation + 1;
            while (dilated + lo[d] + hi[d] < 0) {
                changed = true;
                if (lo[d] < 0) {
                    lo[d]++;
                } else {
                    hi[d]++;
                }
            }
        }
        return changed ? new Padding.Explicit(lo, hi) : padding;
    }

    private static int[] perDim(SplittableRandom random, int rank, int max) {
        if (random.nextBoolean()) {
            return new int[] {1 + random.nextInt(max)};
        }
        int[] values = new int[rank];
        for (int d = 0; d < rank; d++) {
            values[d] = 1 + random.nextInt(max);
        }
        return values;
    }

    public int rank() {
        return kernelShape.length - 2;
    }

    public int batchDims() {
        return inputShape.length - rank() - 1;
    }

    @Override
    public String toString() {
        return "seed " + seed + ": x" + Arrays.toString(inputShape) + " k" + Arrays.toString(kernelShape)
                + " strides " + Arrays.toString(strides) + " lhs " + Arrays.toString(inputDilation) + " rhs "
                + Arrays.toString(kernelDilation) + " padding " + padding + " groups " + groups
                + (bias ? " bias" : "") + (mask ? " mask" : "");
    }
}
