package org.convcl;

import java.util.Arrays;

/**
 * What a convolution does, independent of shapes and backends: strides, padding, input and kernel dilation
 * and feature groups, with flax {@code nnx.Conv}'s defaults (stride 1, SAME, no dilation, one group).
 *
 * <p>Per-dim settings are given as one int (every spatial dim) or one int per dim; their length is checked
 * against the kernel's rank when the spec is {@link #resolve resolved} against concrete shapes, which is
 * also where every rule of flax and jax is enforced (see {@link ConvGeometry}).
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class ConvSpec {
    private final int[] strides;
    private final int[] inputDilation;
    private final int[] kernelDilation;
    private final Padding padding;
    private final int groups;
    private final Precision precision;

    private ConvSpec(Builder builder) {
        this.strides = checkedPositive("strides", builder.strides);
        this.inputDilation = checkedPositive("inputDilation", builder.inputDilation);
        this.kernelDilation = checkedPositive("kernelDilation", builder.kernelDilation);
        this.padding = checkedPadding(builder.padding);
        if (builder.groups < 1) {
            throw new IllegalArgumentException("groups: got " + builder.groups + "; feature groups must be >= 1");
        }
        this.groups = builder.groups;
        this.precision = checkedPrecision(builder.precision);
    }

    /** The defaults of flax nnx.Conv: stride 1, SAME padding, no dilation, one group. */
    public static ConvSpec defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder pre-filled with this spec's settings. */
    public Builder toBuilder() {
        return new Builder().strides(strides).inputDilation(inputDilation).kernelDilation(kernelDilation)
                .padding(padding).groups(groups).precision(precision);
    }

    public int[] strides() {
        return strides.clone();
    }

    public int[] inputDilation() {
        return inputDilation.clone();
    }

    public int[] kernelDilation() {
        return kernelDilation.clone();
    }

    public Padding padding() {
        return padding;
    }

    public int groups() {
        return groups;
    }

    /** How the products are computed: {@link Precision#HIGHEST} (float32, the default) or {@link Precision#TF32}. */
    public Precision precision() {
        return precision;
    }

    /**
     * Checks this spec against an input of shape {@code (*batch, *spatial, Cin)} and a kernel of shape
     * {@code (*k, Cin/groups, Cout)} and computes everything a backend needs. Throws
     * {@link IllegalArgumentException} naming the parameter, the value and the rule when flax or jax would
     * refuse the configuration.
     */
    public ConvGeometry resolve(int[] inputShape, int[] kernelShape) {
        return ConvGeometry.resolve(this, inputShape, kernelShape);
    }

    /**
     * Refuses this spec for a kernel with {@code rank} spatial dims where it breaks a rule that depends on the
     * rank alone: a per-dim setting with neither 1 nor {@code rank} values, explicit padding without one pair
     * per dim, CAUSAL padding for a kernel that is not 1-d. {@link org.convcl.nn.Conv} calls this when a layer is built, so
     * that a layer no input could run is refused at once; {@link ConvGeometry} applies the same rules in its
     * own order of refusals, through {@link #perDim} and {@link #checkPaddingRank}.
     */
    public void checkRank(int rank) {
        perDim("strides", strides, rank);
        perDim("inputDilation", inputDilation, rank);
        perDim("kernelDilation", kernelDilation, rank);
        checkPaddingRank(rank);
    }

    /** The padding's rules in {@link #checkRank}: explicit pairs one per spatial dim, CAUSAL for 1-d only. */
    void checkPaddingRank(int rank) {
        checkExplicitPaddingRank(padding, rank);
        if (padding == Padding.CAUSAL && rank != 1) {
            throw new IllegalArgumentException("padding: CAUSAL needs a 1-d kernel, got rank " + rank);
        }
    }

    /** Refuses explicit padding that has not one (lo, hi) pair per spatial dim; ConvTransposeSpec's rule too. */
    static void checkExplicitPaddingRank(Padding padding, int rank) {
        if (padding instanceof Padding.Explicit explicit && explicit.rank() != rank) {
            throw new IllegalArgumentException("padding: " + explicit + " has " + explicit.rank()
                    + " entries for a " + rank + "-d kernel; give one (lo, hi) pair per spatial dim");
        }
    }

    /** Expands a one-int-or-n-ints setting to n ints, refusing any other length. */
    static int[] perDim(String name, int[] values, int rank) {
        if (values.length == rank) {
            return values.clone();
        }
        if (values.length == 1) {
            int[] expanded = new int[rank];
            Arrays.fill(expanded, values[0]);
            return expanded;
        }
        throw new IllegalArgumentException(name + ": got " + values.length + " values " + Arrays.toString(values)
                + " for a " + rank + "-d kernel; give one int or exactly " + rank);
    }

    /** A copy of a per-dim setting, refused when it has no values or one below 1; ConvTransposeSpec's rule too. */
    static int[] checkedPositive(String name, int[] values) {
        if (values == null || values.length == 0) {
            throw new IllegalArgumentException(name + ": got no values; give one int or one per spatial dim");
        }
        for (int value : values) {
            if (value < 1) {
                throw new IllegalArgumentException(name + ": got " + Arrays.toString(values)
                        + "; every value must be >= 1");
            }
        }
        return values.clone();
    }

    /** The padding, refused when null; ConvTransposeSpec's rule too. */
    static Padding checkedPadding(Padding padding) {
        if (padding == null) {
            throw new IllegalArgumentException("padding: got null; expected a Padding");
        }
        return padding;
    }

    /** The precision, refused when null; ConvTransposeSpec's rule too. */
    static Precision checkedPrecision(Precision precision) {
        if (precision == null) {
            throw new IllegalArgumentException("precision: got null; expected Precision.HIGHEST or Precision.TF32");
        }
        return precision;
    }

    @Override
    public String toString() {
        return "ConvSpec{strides=" + Arrays.toString(strides) + ", padding=" + padding + ", inputDilation="
                + Arrays.toString(inputDilation) + ", kernelDilation=" + Arrays.toString(kernelDilation)
                + ", groups=" + groups + (precision == Precision.HIGHEST ? "" : ", precision=" + precision) + "}";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ConvSpec s && Arrays.equals(strides, s.strides)
                && Arrays.equals(inputDilation, s.inputDilation) && Arrays.equals(kernelDilation, s.kernelDilation)
                && padding.equals(s.padding) && groups == s.groups && precision == s.precision;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(new int[] {Arrays.hashCode(strides), Arrays.hashCode(inputDilation),
            Arrays.hashCode(kernelDilation), padding.hashCode(), groups, precision.hashCode()});
    }

    /** Collects settings; every setter validates only on {@link #build()}. Not thread-safe. */
    public static final class Builder {
        private int[] strides = {1};
        private int[] inputDilation = {1};
        private int[] kernelDilation = {1};
        private Padding padding = Padding.SAME;
        private int groups = 1;
        private Precision precision = Precision.HIGHEST;

        private Builder() {
        }

        /** One stride for every spatial dim, or one per dim. */
        public Builder strides(int... strides) {
            this.strides = strides == null ? null : strides.clone();
            return this;
        }

        /** lhs dilation: {@code d - 1} zeros inserted between input elements. */
        public Builder inputDilation(int... inputDilation) {
            this.inputDilation = inputDilation == null ? null : inputDilation.clone();
            return this;
        }

        /** rhs dilation: {@code d - 1} gaps between kernel taps. */
        public Builder kernelDilation(int... kernelDilation) {
            this.kernelDilation = kernelDilation == null ? null : kernelDilation.clone();
            return this;
        }

        public Builder padding(Padding padding) {
            this.padding = padding;
            return this;
        }

        /** Feature groups ({@code feature_group_count}). */
        public Builder groups(int groups) {
            this.groups = groups;
            return this;
        }

        /**
         * flax's {@code precision}: {@link Precision#HIGHEST} (the default, float32) or {@link Precision#TF32}
         * (operands rounded to TensorFloat-32, tensor cores on NVIDIA GPUs that have them). The backward pass
         * computes its products in the same precision.
         */
        public Builder precision(Precision precision) {
            this.precision = precision;
            return this;
        }

        public ConvSpec build() {
            return new ConvSpec(this);
        }
    }
}
