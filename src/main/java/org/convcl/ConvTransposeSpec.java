package org.convcl;

import java.util.Arrays;

/**
 * What a transposed convolution does, as flax {@code nnx.ConvTranspose} takes it: strides (the fractional
 * stride: the input is dilated by them), padding, kernel dilation, and whether the kernel is given in the
 * transposed layout {@code (*k, Cout, Cin)} to be flipped and channel-swapped ({@code transpose_kernel}).
 * Defaults are flax's: stride 1, SAME, no dilation, kernel {@code (*k, Cin, Cout)} as it is. There are no
 * feature groups and no input dilation, as flax has none.
 *
 * <p>Per-dim settings are one int (every spatial dim) or one per dim, checked when {@link #resolve resolved}.
 * Immutable and thread-safe.
 */
public final class ConvTransposeSpec {
    private final int[] strides;
    private final int[] kernelDilation;
    private final Padding padding;
    private final boolean transposeKernel;
    private final Precision precision;

    private ConvTransposeSpec(Builder builder) {
        this.strides = ConvSpec.checkedPositive("strides", builder.strides);
        this.kernelDilation = ConvSpec.checkedPositive("kernelDilation", builder.kernelDilation);
        this.padding = ConvSpec.checkedPadding(builder.padding);
        this.transposeKernel = builder.transposeKernel;
        this.precision = ConvSpec.checkedPrecision(builder.precision);
    }

    /** flax's defaults: stride 1, SAME padding, no kernel dilation, kernel not transposed. */
    public static ConvTransposeSpec defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder().strides(strides).kernelDilation(kernelDilation).padding(padding)
                .transposeKernel(transposeKernel).precision(precision);
    }

    public int[] strides() {
        return strides.clone();
    }

    public int[] kernelDilation() {
        return kernelDilation.clone();
    }

    public Padding padding() {
        return padding;
    }

    public boolean transposeKernel() {
        return transposeKernel;
    }

    /** How the products are computed: {@link Precision#HIGHEST} (float32, the default) or {@link Precision#TF32}. */
    public Precision precision() {
        return precision;
    }

    /**
     * Checks this spec against an input {@code (*batch, *spatial, Cin)} and a kernel ({@code (*k, Cin, Cout)},
     * or {@code (*k, Cout, Cin)} with {@link #transposeKernel}) and computes the convolution that runs it.
     */
    public ConvTransposeGeometry resolve(int[] inputShape, int[] kernelShape) {
        return ConvTransposeGeometry.resolve(this, inputShape, kernelShape);
    }

    /**
     * Refuses this spec for a kernel with {@code rank} spatial dims where it breaks a rule that depends on the
     * rank alone: a per-dim setting with neither 1 nor {@code rank} values, explicit padding without one pair
     * per dim. {@link org.convcl.nn.ConvTranspose} calls this when a layer is built, so that a layer no input could run is
     * refused at once; {@link ConvTransposeGeometry} applies the same rules in its own order of refusals.
     */
    public void checkRank(int rank) {
        ConvSpec.perDim("strides", strides, rank);
        ConvSpec.perDim("kernelDilation", kernelDilation, rank);
        ConvSpec.checkExplicitPaddingRank(padding, rank);
    }

    @Override
    public String toString() {
        return "ConvTransposeSpec{strides=" + Arrays.toString(strides) + ", padding=" + padding
                + ", kernelDilation=" + Arrays.toString(kernelDilation) + ", transposeKernel=" + transposeKernel
                + (precision == Precision.HIGHEST ? "" : ", precision=" + precision) + "}";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ConvTransposeSpec s && Arrays.equals(strides, s.strides)
                && Arrays.equals(kernelDilation, s.kernelDilation) && padding.equals(s.padding)
                && transposeKernel == s.transposeKernel && precision == s.precision;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(new int[] {Arrays.hashCode(strides), Arrays.hashCode(kernelDilation),
            padding.hashCode(), Boolean.hashCode(transposeKernel), precision.hashCode()});
    }

    /** Collects settings; validated on {@link #build()}. Not thread-safe. */
    public static final class Builder {
        private int[] strides = {1};
        private int[] kernelDilation = {1};
        private Padding padding = Padding.SAME;
        private boolean transposeKernel;
        private Precision precision = Precision.HIGHEST;

        private Builder() {
        }

        /** One stride for every spatial dim, or one per dim: the output grows by this factor. */
        public Builder strides(int... strides) {
            this.strides = strides == null ? null : strides.clone();
            return this;
        }

        public Builder kernelDilation(int... kernelDilation) {
            this.kernelDilation = kernelDilation == null ? null : kernelDilation.clone();
            return this;
        }

        /** SAME, VALID, CIRCULAR, SAME_LOWER (stride 1 only, as in jax), an int, or explicit pairs. */
        public Builder padding(Padding padding) {
            this.padding = padding;
            return this;
        }

        /** flax's {@code transpose_kernel}: the kernel is {@code (*k, Cout, Cin)}, flipped and swapped on use. */
        public Builder transposeKernel(boolean transposeKernel) {
            this.transposeKernel = transposeKernel;
            return this;
        }

        /**
         * flax's {@code precision}: {@link Precision#HIGHEST} (the default, float32) or {@link Precision#TF32}
         * (operands rounded to TensorFloat-32). The backward pass computes its products in the same precision.
         */
        public Builder precision(Precision precision) {
            this.precision = precision;
            return this;
        }

        public ConvTransposeSpec build() {
            return new ConvTransposeSpec(this);
        }
    }
}
