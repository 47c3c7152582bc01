package org.convcl;

import java.util.Locale;

/**
 * The order of a layer's axes: where the channels are in its input, output and gradients, and how its kernel
 * is laid out. A setting of {@link org.convcl.nn.Conv.Builder#layout} and {@link org.convcl.nn.ConvTranspose.Builder#layout}; the default is
 * flax's {@link #CHANNELS_LAST}. Both compute the same values: a channels-first layer gives exactly the
 * channels-last result of the same data with its axes moved (the layer computes channels-last inside and moves
 * the axes at its boundaries).
 */
public enum Layout {
    /**
     * flax's and TensorFlow's (NHWC): input {@code (*batch, *spatial, Cin)}, output {@code (*batch, *spatial, Cout)};
     * a {@link org.convcl.nn.Conv} kernel {@code (*k, Cin/groups, Cout)} (HWIO), a {@link org.convcl.nn.ConvTranspose} kernel {@code (*k, Cin,
     * Cout)}, or {@code (*k, Cout, Cin)} with {@code transposeKernel}.
     */
    CHANNELS_LAST,
    /**
     * PyTorch's and ONNX's (NCHW): input {@code (*batch, Cin, *spatial)}, output {@code (*batch, Cout, *spatial)};
     * a {@link org.convcl.nn.Conv} kernel {@code (Cout, Cin/groups, *k)} (OIHW); a {@link org.convcl.nn.ConvTranspose} kernel {@code (Cin,
     * Cout, *k)}, PyTorch's {@code ConvTranspose} weight, with or without {@code transposeKernel} (which chooses
     * the arithmetic, as in flax: with it, the kernel is flipped and its channels swapped, which is what PyTorch's
     * and ONNX's ConvTranspose compute with that weight; without it, jax's {@code conv_transpose} without a flip).
     */
    CHANNELS_FIRST;

    /** {@code channels-last} or {@code channels-first}: the name the CLI's {@code --layout} takes. */
    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
