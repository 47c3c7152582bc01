package org.convcl.testing;

import java.util.Arrays;
import java.util.Random;
import org.convcl.ConvSpec;
import org.convcl.ConvTransposeSpec;
import org.convcl.Padding;
import org.convcl.Tensor;

/**
 * Small random convolution configurations covering every knob (ranks 1-3, zero / one / two batch dims,
 * strides, both dilations, groups, every padding mode including negative pairs), kept small enough that
 * float64 finite differences over them stay cheap. Refused configurations are redrawn, so every one returned
 * resolves.
 */
public final class RandomConfigs {
    private static final int MAX_INPUT = 360;
    private static final int MAX_KERNEL = 160;

    private RandomConfigs() {
    }

    /** A convolution: input and kernel shapes and the spec. */
    public record ConvConfig(int[] xShape, int[] wShape, ConvSpec spec) {
        @Override
        public String toString() {
            return "x" + Arrays.toString(xShape) + " w" + Arrays.toString(wShape) + " " + spec;
        }
    }

    /** A transposed convolution: input and kernel shapes (as the layer holds the kernel) and the spec. */
    public record TransposeConfig(int[] xShape, int[] wShape, ConvTransposeSpec spec) {
        @Override
        public String toString() {
            return "x" + Arrays.toString(xShape) + " w" + Arrays.toString(wShape) + " " + spec;
        }
    }

    public static ConvConfig conv(Random random) {
        while (true) {
            int rank = 1 + random.nextInt(3);
            int groups = 1 + random.nextInt(3);
            int cin = groups * (1 + random.nextInt(2));
            int cout = groups * (1 + random.nextInt(2));
            int[] k = sizes(random, rank, rank == 3 ? 2 : 4);
            int[] spatial = sizes(random, rank, rank == 1 ? 9 : rank == 2 ? 6 : 4);
            int[] strides = sizes(random, rank, 3);
            int[] kernelDilation = sizes(random, rank, 3);
            int[] inputDilation = ones(rank);
            Padding padding = switch (random.nextInt(9)) {
                case 0 -> Padding.SAME;
                case 1 -> Padding.SAME_LOWER;
                case 2 -> Padding.VALID;
                case 3 -> Padding.CIRCULAR;
                case 4 -> Padding.REFLECT;
                case 5 -> rank == 1 ? Padding.CAUSAL : Padding.CIRCULAR;
                case 6 -> Padding.of(random.nextInt(4) - 1);
                default -> pairs(random, rank);
            };
            if (!padding.isNamed() && random.nextBoolean()) {
                inputDilation = sizes(random, rank, 3);
            }
            int[] xShape = withBatch(random, spatial, cin);
            int[] wShape = Arrays.copyOf(k, rank + 2);
            wShape[rank] = cin / groups;
            wShape[rank + 1] = cout;
            ConvSpec spec = ConvSpec.builder().strides(strides).inputDilation(inputDilation)
                    .kernelDilation(kernelDilation).padding(padding).groups(groups).build();
            if (Tensor.elementCount(xShape) > MAX_INPUT || Tensor.elementCount(wShape) > MAX_KERNEL) {
                continue;
            }
            try {
                spec.resolve(xShape, wShape);
            } catch (IllegalArgumentException refused) {
                continue;
            }
            return new ConvConfig(xShape, wShape, spec);
        }
    }

    public static TransposeConfig transpose(Random random) {
        while (true) {
            int rank = 1 + random.nextInt(3);
            int cin = 1 + random.nextInt(3);
            int cout = 1 + random.nextInt(3);
            int[] k = sizes(random, rank, rank == 3 ? 2 : 4);
            int[] spatial = sizes(random, rank, rank == 1 ? 7 : rank == 2 ? 5 : 3);
            int[] strides = sizes(random, rank, 3);
            int[] kernelDilation = sizes(random, rank, 2);
            Padding padding = switch (random.nextInt(6)) {
                case 0 -> Padding.SAME;
                case 1 -> Padding.VALID;
                case 2, 3 -> Padding.CIRCULAR;
                case 4 -> Padding.of(random.nextInt(4) - 1);
                default -> pairs(random, rank);
            };
            if (random.nextInt(8) == 0) {
                padding = Padding.SAME_LOWER;
                strides = ones(rank);
            }
            boolean transposeKernel = random.nextBoolean();
            int[] xShape = withBatch(random, spatial, cin);
            int[] wShape = Arrays.copyOf(k, rank + 2);
            wShape[rank] = transposeKernel ? cout : cin;
            wShape[rank + 1] = transposeKernel ? cin : cout;
            ConvTransposeSpec spec = ConvTransposeSpec.builder().strides(strides).kernelDilation(kernelDilation)
                    .padding(padding).transposeKernel(transposeKernel).build();
            if (Tensor.elementCount(xShape) > MAX_INPUT || Tensor.elementCount(wShape) > MAX_KERNEL) {
                continue;
            }
            try {
                if (Tensor.elementCount(spec.resolve(xShape, wShape).conv().outputShape()) > 4 * MAX_INPUT) {
                    continue;
                }
            } catch (IllegalArgumentException refused) {
                continue;
            }
            return new TransposeConfig(xShape, wShape, spec);
        }
    }

    /** Random float32 values in [-1, 1). */
    public static float[] values(Random random, int length) {
        float[] values = new float[length];
        for (int i = 0; i < length; i++) {
            values[i] = random.nextFloat() * 2 - 1;
        }
        return values;
    }

    /** A 0/1 kernel mask, mostly ones. */
    public static float[] mask(Random random, int length) {
        float[] mask = new float[length];
        for (int i = 0; i < length; i++) {
            mask[i] = random.nextInt(4) == 0 ? 0f : 1f;
        }
        return mask;
    }

    private static int[] withBatch(Random random, int[] spatial, int channels) {
        int[] batch = switch (random.nextInt(4)) {
            case 0 -> new int[0];
            case 1 -> new int[] {1};
            case 2 -> new int[] {2};
            default -> new int[] {2, 1 + random.nextInt(2)};
        };
        int[] shape = Arrays.copyOf(batch, batch.length + spatial.length + 1);
        System.arraycopy(spatial, 0, shape, batch.length, spatial.length);
        shape[shape.length - 1] = channels;
        return shape;
    }

    private static Padding pairs(Random random, int rank) {
        int[] lo = new int[rank];
        int[] hi = new int[rank];
        for (int d = 0; d < rank; d++) {
            lo[d] = random.nextInt(6) - 2;
            hi[d] = random.nextInt(6) - 2;
        }
        return new Padding.Explicit(lo, hi);
    }

    private static int[] sizes(Random random, int rank, int max) {
        int[] sizes = new int[rank];
        for (int d = 0; d < rank; d++) {
            sizes[d] = 1 + random.nextInt(max);
        }
        return sizes;
    }

    private static int[] ones(int rank) {
        int[] ones = new int[rank];
        Arrays.fill(ones, 1);
        return ones;
    }
}
