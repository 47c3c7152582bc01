package org.convcl.examples;

import org.convcl.Activation;
import org.convcl.ConvSpec;
import org.convcl.DType;
import org.convcl.Layout;
import org.convcl.Padding;
import org.convcl.Precision;
import org.convcl.Tensor;
import org.convcl.backend.ConvBackend;
import org.convcl.nn.Conv;

/**
 * Turns a PyTorch convolution and the batch norm after it into one {@link Conv} with a fused epilogue: the norm in
 * eval mode is {@code (y - mean) / sqrt(var + eps) * gamma + beta}, an affine map per channel, so it folds into the
 * layer's {@code scale = gamma / sqrt(var + eps)} and {@code shift = beta - mean * scale} (computed in double,
 * rounded once). Channels-first layers take PyTorch's OIHW weights as they are; channels-last ones get them
 * transposed once, here, to HWIO. Every layer computes in the network's {@link DType}; the folded scale and shift
 * stay float32 whatever the type, as 16-bit layers keep them.
 */
final class FoldedConvs {
    private final ResNetWeights weights;
    private final Layout layout;
    private final Precision precision;
    private final DType dtype;
    private final ConvBackend backend;

    FoldedConvs(ResNetWeights weights, Layout layout, Precision precision, DType dtype, ConvBackend backend) {
        this.weights = weights;
        this.layout = layout;
        this.precision = precision;
        this.dtype = dtype;
        this.backend = backend;
    }

    /** The convolution, its batch norm folded, then {@code activation}. */
    Conv convNorm(ResNetPlan.ConvLayer layer, Activation activation) {
        int n = layer.out();
        float[] scale = new float[n];
        float[] shift = new float[n];
        float[] gamma = weights.tensor(layer.norm() + ".weight").data();
        float[] beta = weights.tensor(layer.norm() + ".bias").data();
        float[] mean = weights.tensor(layer.norm() + ".running_mean").data();
        float[] variance = weights.tensor(layer.norm() + ".running_var").data();
        for (int c = 0; c < n; c++) {
            double factor = gamma[c] / Math.sqrt((double) variance[c] + ResNetPlan.BATCH_NORM_EPS);
            scale[c] = (float) factor;
            shift[c] = (float) (beta[c] - mean[c] * factor);
        }
        return build(weights.tensor(layer.weight()), layer.stride(), layer.padding())
                .scale(Tensor.of(scale, n)).shift(Tensor.of(shift, n)).activation(activation).build();
    }

    /** The final linear layer {@code (classes, features)} as a 1x1 convolution with its bias. */
    Conv linear(String weightName, String biasName) {
        Tensor weight = weights.tensor(weightName);
        Tensor kernel = weight.reshape(weight.dim(0), weight.dim(1), 1, 1);
        return build(kernel, 1, 0).bias(weights.tensor(biasName)).build();
    }

    private Conv.Builder build(Tensor oihw, int stride, int padding) {
        ConvSpec spec = ConvSpec.builder().strides(stride)
                .padding(new Padding.Explicit(new int[] {padding, padding}, new int[] {padding, padding}))
                .precision(precision).build();
        Tensor kernel = layout == Layout.CHANNELS_FIRST ? oihw : toHwio(oihw);
        // An inference network: its weights never change, so the Java path keeps what it prepares from them
        // without checking them again on every call.
        return Conv.builder(kernel).spec(spec).layout(layout).dtype(dtype).backend(backend)
                .fixedParameters(true);
    }

    /** PyTorch's {@code (O, I, H, W)} weight as flax's {@code (H, W, I, O)} kernel. */
    static Tensor toHwio(Tensor oihw) {
        int o = oihw.dim(0);
        int i = oihw.dim(1);
        int h = oihw.dim(2);
        int w = oihw.dim(3);
        float[] from = oihw.data();
        float[] to = new float[from.length];
        for (int co = 0; co < o; co++) {
            for (int ci = 0; ci < i; ci++) {
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        to[((y * w + x) * i + ci) * o + co] = from[((co * i + ci) * h + y) * w + x];
                    }
                }
            }
        }
        return Tensor.of(to, h, w, i, o);
    }
}
