package org.convcl.nn;

import java.util.List;
import java.util.SplittableRandom;
import org.convcl.Activation;
import org.convcl.ConvSpec;
import org.convcl.ConvTransposeSpec;
import org.convcl.DType;
import org.convcl.Layout;
import org.convcl.Padding;
import org.convcl.Tensor;
import org.convcl.backend.ConvBackend;
import org.convcl.opencl.DeviceTensor;
import org.convcl.testing.RandomTensors;

/**
 * The layers of the in-place residual tests ({@code out} the residual itself), one per kernel route: the 1x1 tiles
 * (one reduction chunk and several, a channel count that ends in a partial vector, strided), the general rows,
 * Winograd 3x3, depthwise, channels-first, both 16-bit types, and transposed convolutions (the phased GEMM, the
 * CIRCULAR fold). Each with the epilogue's every part, so every stage of the store reads around the residual.
 */
final class InPlaceResidualCases {
    private InPlaceResidualCases() {
    }

    /** A layer of either kind, by what the tests call on it. */
    interface Layer extends AutoCloseable {
        int[] outputShape(int[] inputShape);

        void apply(Tensor x, Tensor residual, Tensor out);

        void apply(DeviceTensor x, DeviceTensor residual, DeviceTensor out);

        DType dtype();

        @Override
        void close();
    }

    /** One case: {@code layer} built on a backend, applied to a random input of {@code inputShape}. */
    record Case(String name, int[] inputShape, Activation activation, LayerMaker maker) {
        Layer layer(ConvBackend backend, SplittableRandom random) {
            return maker.make(backend, random, activation);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    interface LayerMaker {
        Layer make(ConvBackend backend, SplittableRandom random, Activation activation);
    }

    /** Every route, each case a layer of its own (on OpenCL, a program of its own). */
    static List<Case> all() {
        return List.of(
                conv("1x1 one chunk, a partial vector", new int[] {2, 5, 3, 8}, 1, 8, 40, 1, 1, Layout.CHANNELS_LAST,
                        DType.FLOAT32, Activation.relu()),
                conv("1x1 two reduction chunks", new int[] {1, 3, 5, 300}, 1, 300, 24, 1, 1, Layout.CHANNELS_LAST,
                        DType.FLOAT32, Activation.relu()),
                conv("1x1 strided", new int[] {2, 7, 7, 16}, 1, 16, 32, 2, 1, Layout.CHANNELS_LAST, DType.FLOAT32,
                        Activation.relu6()),
                conv("1x1 gelu (after the stores)", new int[] {1, 5, 5, 8}, 1, 8, 16, 1, 1, Layout.CHANNELS_LAST,
                        DType.FLOAT32, Activation.gelu(true)),
                conv("1x1 channels-first", new int[] {2, 8, 5, 3}, 1, 8, 40, 1, 1, Layout.CHANNELS_FIRST,
                        DType.FLOAT32, Activation.relu()),
                conv("3x3 Winograd", new int[] {1, 9, 9, 8}, 3, 8, 16, 1, 1, Layout.CHANNELS_LAST, DType.FLOAT32,
                        Activation.relu()),
                conv("3x3 strided rows", new int[] {2, 9, 9, 8}, 3, 8, 16, 2, 1, Layout.CHANNELS_LAST,
                        DType.FLOAT32, Activation.leakyRelu(0.1f)),
                conv("3x3 depthwise", new int[] {1, 8, 8, 16}, 3, 16, 16, 1, 16, Layout.CHANNELS_LAST,
                        DType.FLOAT32, Activation.relu()),
                conv("3x3 channels-first", new int[] {1, 8, 6, 6}, 3, 8, 8, 1, 1, Layout.CHANNELS_FIRST,
                        DType.FLOAT32, Activation.relu()),
                conv("1x1 float16", new int[] {2, 5, 3, 8}, 1, 8, 40, 1, 1, Layout.CHANNELS_LAST, DType.FLOAT16,
                        Activation.relu()),
                conv("3x3 bfloat16", new int[] {1, 7, 7, 8}, 3, 8, 16, 1, 1, Layout.CHANNELS_LAST, DType.BFLOAT16,
                        Activation.relu()),
                transpose("transposed, strided", Padding.SAME),
                transpose("transposed, CIRCULAR fold", Padding.CIRCULAR));
    }

    private static Case conv(String name, int[] inputShape, int taps, int inChannels, int outChannels, int stride,
            int groups, Layout layout, DType dtype, Activation activation) {
        return new Case(name, inputShape, activation, (backend, random, act) -> {
            int perGroup = inChannels / groups;
            Tensor kernel = layout == Layout.CHANNELS_FIRST ? random(random, outChannels, perGroup, taps, taps)
                    : random(random, taps, taps, perGroup, outChannels);
            Conv conv = Conv.builder(kernel).spec(ConvSpec.builder().strides(stride).groups(groups)
                            .padding(Padding.SAME).build())
                    .bias(random(random, outChannels)).scale(random(random, outChannels))
                    .shift(random(random, outChannels)).activation(act).layout(layout).dtype(dtype)
                    .backend(backend).build();
            return new Layer() {
                @Override
                public int[] outputShape(int[] shape) {
                    return conv.outputShape(shape);
                }

                @Override
                public void apply(Tensor x, Tensor residual, Tensor out) {
                    conv.apply(x, residual, out);
                }

                @Override
                public void apply(DeviceTensor x, DeviceTensor residual, DeviceTensor out) {
                    conv.apply(x, residual, out);
                }

                @Override
                public DType dtype() {
                    return conv.dtype();
                }

                @Override
                public void close() {
                    conv.close();
                }
            };
        });
    }

    private static Case transpose(String name, Padding padding) {
        return new Case(name, new int[] {2, 5, 6, 4}, Activation.relu(), (backend, random, act) -> {
            ConvTranspose layer = ConvTranspose.builder(random(random, 3, 3, 4, 5))
                    .spec(ConvTransposeSpec.builder().strides(2).padding(padding).build())
                    .bias(random(random, 5)).scale(random(random, 5)).shift(random(random, 5)).activation(act)
                    .backend(backend).build();
            return new Layer() {
                @Override
                public int[] outputShape(int[] shape) {
                    return layer.outputShape(shape);
                }

                @Override
                public void apply(Tensor x, Tensor residual, Tensor out) {
                    layer.apply(x, residual, out);
                }

                @Override
                public void apply(DeviceTensor x, DeviceTensor residual, DeviceTensor out) {
                    layer.apply(x, residual, out);
                }

                @Override
                public DType dtype() {
                    return layer.dtype();
                }

                @Override
                public void close() {
                    layer.close();
                }
            };
        });
    }

    static Tensor random(SplittableRandom random, int... shape) {
        return RandomTensors.uniform(random, shape);
    }
}
