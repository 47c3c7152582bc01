package org.convcl.nn;

import java.util.Random;
import org.convcl.Activation;
import org.convcl.ConvSpec;
import org.convcl.ConvTransposeSpec;
import org.convcl.Layout;
import org.convcl.Tensor;
import org.convcl.backend.ConvBackend;
import org.convcl.testing.BilinearReference;
import org.convcl.testing.ChannelsFirstData;
import org.convcl.testing.ConvTransposeReference;
import org.convcl.testing.ConvReference;
import org.convcl.testing.NaiveConv;
import org.convcl.testing.RandomConfigs;
import org.convcl.testing.Reference;
import org.convcl.testing.Tolerance;

/**
 * One random layer with an epilogue for the epilogue tests: a {@link Conv} or a {@link ConvTranspose} (CIRCULAR
 * among the paddings) of rank 1-3 with batch dims, with or without bias, scale, shift and residual, in either
 * layout, with its data. Everything is generated channels-last (the references' layout) and moved to the layer's
 * layout with {@link ChannelsFirstData}'s plain permutations, which share nothing with the library's moves.
 */
final class EpilogueFixture {
    /** A layer of either kind behind the calls the tests make. */
    interface Layer extends AutoCloseable {
        Tensor apply(Tensor x, Tensor residual);

        ConvGradients backward(Tensor x, Tensor residual, Tensor dy);

        @Override
        void close();
    }

    final boolean transpose;
    final Layout layout;
    final int rank;
    final int[] xShape;
    final int[] wShape;
    final ConvSpec convSpec;
    final ConvTransposeSpec transposeSpec;
    final Activation activation;
    final int channels;
    final float[] x;
    final float[] kernel;
    final float[] bias;
    final float[] scale;
    final float[] shift;
    final float[] residual;
    final float[] dy;
    final int[] yShape;

    EpilogueFixture(Random random, Activation activation, boolean transpose, Layout layout) {
        this.transpose = transpose;
        this.layout = layout;
        this.activation = activation;
        if (transpose) {
            RandomConfigs.TransposeConfig config = RandomConfigs.transpose(random);
            xShape = config.xShape();
            wShape = config.wShape();
            transposeSpec = config.spec();
            convSpec = null;
            rank = wShape.length - 2;
            channels = wShape[transposeSpec.transposeKernel() ? rank : rank + 1];
        } else {
            RandomConfigs.ConvConfig config = RandomConfigs.conv(random);
            xShape = config.xShape();
            wShape = config.wShape();
            convSpec = config.spec();
            transposeSpec = null;
            rank = wShape.length - 2;
            channels = wShape[rank + 1];
        }
        x = RandomConfigs.values(random, (int) Tensor.elementCount(xShape));
        kernel = RandomConfigs.values(random, (int) Tensor.elementCount(wShape));
        bias = random.nextBoolean() ? RandomConfigs.values(random, channels) : null;
        // Scales past 1 in magnitude, so that relu6 and the saturating activations meet both of their sides.
        scale = random.nextInt(3) > 0 ? times(RandomConfigs.values(random, channels), 4) : null;
        shift = random.nextInt(3) > 0 ? RandomConfigs.values(random, channels) : null;
        yShape = referenceConv().shape();
        int outputLength = (int) Tensor.elementCount(yShape);
        residual = random.nextBoolean() ? RandomConfigs.values(random, outputLength) : null;
        dy = RandomConfigs.values(random, outputLength);
    }

    @Override
    public String toString() {
        return (transpose ? "ConvTranspose " + transposeSpec : "Conv " + convSpec) + " x" + java.util.Arrays.toString(
                xShape) + " w" + java.util.Arrays.toString(wShape) + " " + layout + " " + activation
                + (bias == null ? "" : " bias") + (scale == null ? "" : " scale") + (shift == null ? "" : " shift")
                + (residual == null ? "" : " residual");
    }

    // ---- the layer ----------------------------------------------------------------------------------------

    /** The layer on {@code backend}, with its epilogue, or without any (the unfused composition's first step). */
    Layer layer(ConvBackend backend, boolean withEpilogue) {
        Tensor w = userKernel();
        Tensor b = bias == null ? null : Tensor.of(bias, channels);
        Tensor s = withEpilogue && scale != null ? Tensor.of(scale, channels) : null;
        Tensor t = withEpilogue && shift != null ? Tensor.of(shift, channels) : null;
        Activation act = withEpilogue ? activation : Activation.identity();
        if (transpose) {
            ConvTranspose layer = ConvTranspose.builder(w).bias(b).scale(s).shift(t).activation(act)
                    .spec(transposeSpec).layout(layout).backend(backend).build();
            return new Layer() {
                @Override
                public Tensor apply(Tensor input, Tensor r) {
                    return layer.apply(input, r);
                }

                @Override
                public ConvGradients backward(Tensor input, Tensor r, Tensor cotangent) {
                    return layer.backward(input, r, cotangent);
                }

                @Override
                public void close() {
                    layer.close();
                }
            };
        }
        Conv layer = Conv.builder(w).bias(b).scale(s).shift(t).activation(act).spec(convSpec).layout(layout)
                .backend(backend).build();
        return new Layer() {
            @Override
            public Tensor apply(Tensor input, Tensor r) {
                return layer.apply(input, r);
            }

            @Override
            public ConvGradients backward(Tensor input, Tensor r, Tensor cotangent) {
                return layer.backward(input, r, cotangent);
            }

            @Override
            public void close() {
                layer.close();
            }
        };
    }

    Tensor userX() {
        return activations(x, xShape);
    }

    /** The residual in the layer's layout, or null. */
    Tensor userResidual() {
        return residual == null ? null : activations(residual, yShape);
    }

    Tensor userDy() {
        return activations(dy, yShape);
    }

    Tensor userKernel() {
        Tensor held = Tensor.of(kernel, wShape);
        if (layout == Layout.CHANNELS_LAST) {
            return held;
        }
        return ChannelsFirstData.permute(held, kernelOrder());
    }

    /** A channels-last activation tensor in the layer's layout. */
    Tensor activations(float[] values, int[] shape) {
        Tensor channelsLast = Tensor.of(values, shape);
        return layout == Layout.CHANNELS_LAST ? channelsLast : ChannelsFirstData.activations(channelsLast, rank);
    }

    /** An activation tensor in the layer's layout as channels-last values. */
    double[] activationsToChannelsLast(Tensor user) {
        double[] values = Tolerance.toDouble(user.data());
        if (layout == Layout.CHANNELS_LAST) {
            return values;
        }
        int[] order = ChannelsFirstData.activationOrder(user.rank(), rank);
        return ChannelsFirstData.permute(values, user.shape(), inverse(order));
    }

    /** A kernel gradient in the layer's layout as the channels-last held kernel's values. */
    double[] kernelToChannelsLast(Tensor user) {
        double[] values = Tolerance.toDouble(user.data());
        if (layout == Layout.CHANNELS_LAST) {
            return values;
        }
        return ChannelsFirstData.permute(values, user.shape(), inverse(kernelOrder()));
    }

    private int[] kernelOrder() {
        return transpose ? ChannelsFirstData.transposeKernelOrder(rank, transposeSpec.transposeKernel())
                : ChannelsFirstData.convKernelOrder(rank);
    }

    // ---- references -------------------------------------------------------------------------------------

    /** The float64 reference of the layer without its epilogue (bias included), channels-last. */
    NaiveConv.Result referenceConv() {
        double[] b = bias == null ? null : Tolerance.toDouble(bias);
        if (transpose) {
            return transposeReference().forward(Tolerance.toDouble(x), Tolerance.toDouble(kernel), b);
        }
        return Reference.forward(Tolerance.toDouble(x), xShape, Tolerance.toDouble(kernel), wShape, b,
                convSpec.strides(), convSpec.inputDilation(), convSpec.kernelDilation(), convSpec.padding(),
                convSpec.groups());
    }

    /** The convolution without bias as a bilinear map of (x, held kernel), for exact adjoints. */
    BilinearReference bilinear() {
        return transpose ? transposeReference() : new ConvReference(xShape, wShape, convSpec);
    }

    private ConvTransposeReference transposeReference() {
        return new ConvTransposeReference(xShape, wShape, transposeSpec.strides(), transposeSpec.kernelDilation(),
                transposeSpec.padding(), transposeSpec.transposeKernel());
    }

    static int[] inverse(int[] order) {
        int[] inverse = new int[order.length];
        for (int i = 0; i < order.length; i++) {
            inverse[order[i]] = i;
        }
        return inverse;
    }

    private static float[] times(float[] values, float factor) {
        for (int i = 0; i < values.length; i++) {
            values[i] *= factor;
        }
        return values;
    }
}
