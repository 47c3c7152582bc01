package org.convcl;

import java.util.Arrays;

/**
 * A convolution resolved against concrete shapes: every size, stride, dilation and the padding in explicit
 * {@code (lo, hi)} form, checked once so that backends never validate. Section 1 of the design notes lives
 * here and in {@link ConvSpec}: flax {@code nnx.Conv} semantics, in one place.
 *
 * <p>Shapes are channels-last: input {@code (*batch, *spatial, Cin)}, kernel {@code (*k, Cin/groups, Cout)},
 * output {@code (*batch, *outSpatial, Cout)}. Padding is counted in the coordinates of the dilated input.
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class ConvGeometry {
    /** Largest element count a host tensor may hold (Java arrays are int-indexed). */
    public static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8;

    private final int[] batchShape;
    private final int batch;
    private final int[] inSpatial;
    private final int inChannels;
    private final int[] kernelSpatial;
    private final int outChannels;
    private final int groups;
    private final int[] strides;
    private final int[] inputDilation;
    private final int[] kernelDilation;
    private final int[] padLo;
    private final int[] padHi;
    private final EdgeMode edgeMode;
    private final int[] outSpatial;
    private final Precision precision;
    private final DType storage;
    /**
     * Whether this geometry is the input gradient of another ({@link AdjointGeometry#inputGradient}): the
     * other's checks covered the convolutions derived from it, and its own derived ones are never run.
     */
    private final boolean adjoint;

    private ConvGeometry(int[] batchShape, int[] inSpatial, int inChannels, int[] kernelSpatial, int outChannels,
            int groups, int[] strides, int[] inputDilation, int[] kernelDilation, int[] padLo, int[] padHi,
            EdgeMode edgeMode, Precision precision, DType storage, boolean adjoint) {
        int rank = kernelSpatial.length;
        this.adjoint = adjoint;
        this.batchShape = batchShape.clone();
        this.inSpatial = inSpatial.clone();
        this.inChannels = inChannels;
        this.kernelSpatial = kernelSpatial.clone();
        this.outChannels = outChannels;
        this.groups = groups;
        this.strides = strides.clone();
        this.inputDilation = inputDilation.clone();
        this.kernelDilation = kernelDilation.clone();
        this.padLo = padLo.clone();
        this.padHi = padHi.clone();
        this.edgeMode = edgeMode;
        if (precision == null) {
            throw new IllegalArgumentException("precision: got null; expected Precision.HIGHEST or Precision.TF32");
        }
        this.precision = precision;
        this.storage = storage;
        this.outSpatial = new int[rank];
        for (int d = 0; d < rank; d++) {
            checkSpan(d, inSpatial[d], inputDilation[d], kernelSpatial[d], kernelDilation[d], padLo[d], padHi[d]);
            long padded = dilatedLength(inSpatial[d], inputDilation[d]) + padLo[d] + padHi[d];
            if (padded < 0) {
                throw new IllegalArgumentException("padding: (" + padLo[d] + ", " + padHi[d] + ") in spatial dim "
                        + d + " crops more than the " + dilatedLength(inSpatial[d], inputDilation[d])
                        + " elements of the (dilated) input; negative padding cannot exceed the dim's size");
            }
            long extent = (long) (kernelSpatial[d] - 1) * kernelDilation[d] + 1;
            long out = Math.floorDiv(padded - extent, (long) strides[d]) + 1;
            this.outSpatial[d] = (int) Math.max(0, Math.min(out, Integer.MAX_VALUE));
        }
        if (!adjoint) {
            // The derived convolutions too, before any work: a backward of an accepted geometry must not overflow.
            int[] paddedSpatial = new int[rank];
            for (int d = 0; d < rank; d++) {
                GeometrySpans.checkInputGradient(d, inSpatial[d], inputDilation[d], kernelSpatial[d],
                        kernelDilation[d], strides[d], padLo[d], padHi[d], this.outSpatial[d], edgeMode);
                GeometrySpans.checkMirrorPeriod(d, inSpatial[d], edgeMode);
                paddedSpatial[d] = edgeMode == EdgeMode.ZERO ? inSpatial[d] : inSpatial[d] + padLo[d] + padHi[d];
            }
            // A kernel with no elements (no input or no output channels) reads no tap: no pass builds tables.
            if (inChannels / Math.max(groups, 1) > 0 && outChannels > 0) {
                GeometrySpans.checkTables(inSpatial, kernelSpatial, this.outSpatial, paddedSpatial);
            }
        }
        long batchCount = 1;
        for (int size : batchShape) {
            batchCount = checkedProduct("input batch dims " + Arrays.toString(batchShape), batchCount, size);
        }
        this.batch = (int) batchCount;
        checkElements("input", inputShape());
        checkElements("kernel", kernelShape());
        checkElements("output", outputShape());
    }

    /** Builds a float32 ({@link Precision#HIGHEST}) geometry from explicit, already-resolved settings. */
    public static ConvGeometry explicit(int[] batchShape, int[] inSpatial, int inChannels, int[] kernelSpatial,
            int outChannels, int groups, int[] strides, int[] inputDilation, int[] kernelDilation, int[] padLo,
            int[] padHi, EdgeMode edgeMode) {
        return explicit(batchShape, inSpatial, inChannels, kernelSpatial, outChannels, groups, strides, inputDilation,
                kernelDilation, padLo, padHi, edgeMode, Precision.HIGHEST);
    }

    /**
     * Builds a geometry from explicit, already-resolved settings and a precision; used for gradients and
     * transposes, which compute in their layer's precision.
     */
    public static ConvGeometry explicit(int[] batchShape, int[] inSpatial, int inChannels, int[] kernelSpatial,
            int outChannels, int groups, int[] strides, int[] inputDilation, int[] kernelDilation, int[] padLo,
            int[] padHi, EdgeMode edgeMode, Precision precision) {
        return explicit(batchShape, inSpatial, inChannels, kernelSpatial, outChannels, groups, strides, inputDilation,
                kernelDilation, padLo, padHi, edgeMode, precision, false);
    }

    /**
     * {@link #explicit(int[], int[], int, int[], int, int, int[], int[], int[], int[], int[], EdgeMode, Precision)}
     * for the input gradient of an accepted geometry ({@code adjoint}): its own sizes are checked, those of
     * the convolutions it would derive (a gradient of the gradient, never run) are not.
     */
    static ConvGeometry explicit(int[] batchShape, int[] inSpatial, int inChannels, int[] kernelSpatial,
            int outChannels, int groups, int[] strides, int[] inputDilation, int[] kernelDilation, int[] padLo,
            int[] padHi, EdgeMode edgeMode, Precision precision, boolean adjoint) {
        checkDims("batchShape", batchShape);
        checkDims("kernelSpatial", kernelSpatial);
        int rank = kernelSpatial.length;
        if (rank < 1) {
            throw new IllegalArgumentException("kernel: needs at least one spatial dim, got 0");
        }
        String[] names = {"inSpatial", "strides", "inputDilation", "kernelDilation", "padLo", "padHi"};
        int[][] perDims = {inSpatial, strides, inputDilation, kernelDilation, padLo, padHi};
        for (int i = 0; i < names.length; i++) {
            if (perDims[i] == null || perDims[i].length != rank) {
                throw new IllegalArgumentException(names[i] + ": per-dim setting " + Arrays.toString(perDims[i])
                        + " does not have " + rank + " entries, one per spatial dim of the kernel");
            }
        }
        // resolve() gets these checked by ConvSpec and the shapes; explicit callers (gradients, transposes, the
        // backends' own users) get the same rules here, not a division by zero or an empty kernel later.
        checkDims("inSpatial", inSpatial);
        checkAtLeast("kernelSpatial", kernelSpatial, 1);
        checkAtLeast("strides", strides, 1);
        checkAtLeast("inputDilation", inputDilation, 1);
        checkAtLeast("kernelDilation", kernelDilation, 1);
        if (inChannels < 0 || outChannels < 0) {
            throw new IllegalArgumentException("channels: got Cin " + inChannels + " and Cout " + outChannels
                    + "; channel counts must be >= 0");
        }
        if (edgeMode == null) {
            throw new IllegalArgumentException("edgeMode: got null; expected one of "
                    + Arrays.toString(EdgeMode.values()) + " (EdgeMode.ZERO for zero padding)");
        }
        if (precision == null) {
            throw new IllegalArgumentException("precision: got null; expected Precision.HIGHEST or Precision.TF32");
        }
        checkChannels(inChannels, outChannels, groups, inChannels / Math.max(groups, 1), null);
        return new ConvGeometry(batchShape, inSpatial, inChannels, kernelSpatial, outChannels, groups, strides,
                inputDilation, kernelDilation, padLo, padHi, edgeMode, precision, DType.FLOAT32, adjoint);
    }

    static ConvGeometry resolve(ConvSpec spec, int[] inputShape, int[] kernelShape) {
        checkDims("input", inputShape);
        checkDims("kernel", kernelShape);
        if (kernelShape.length < 3) {
            throw new IllegalArgumentException("kernel: shape " + Arrays.toString(kernelShape)
                    + " has rank " + kernelShape.length + "; a kernel is (*k, Cin/groups, Cout) with at least one "
                    + "spatial dim, so rank >= 3");
        }
        int rank = kernelShape.length - 2;
        checkDims("kernel", kernelShape);
        checkDims("input", inputShape);
        if (inputShape.length < rank + 1) {
            throw new IllegalArgumentException("input: shape " + Arrays.toString(inputShape) + " has rank "
                    + inputShape.length + " but a " + rank + "-d kernel needs (*batch, *spatial, Cin) with rank >= "
                    + (rank + 1));
        }
        int[] kernelSpatial = Arrays.copyOf(kernelShape, rank);
        for (int d = 0; d < rank; d++) {
            if (kernelSpatial[d] < 1) {
                throw new IllegalArgumentException("kernel: shape " + Arrays.toString(kernelShape)
                        + " has spatial size " + kernelSpatial[d] + " in dim " + d + "; kernel sizes must be >= 1");
            }
        }
        int batchDims = inputShape.length - rank - 1;
        int[] batchShape = Arrays.copyOf(inputShape, batchDims);
        int[] inSpatial = Arrays.copyOfRange(inputShape, batchDims, batchDims + rank);
        int inChannels = inputShape[inputShape.length - 1];
        int outChannels = kernelShape[rank + 1];
        int groups = spec.groups();
        checkChannels(inChannels, outChannels, groups, kernelShape[rank], inputShape);

        int[] strides = ConvSpec.perDim("strides", spec.strides(), rank);
        int[] inputDilation = ConvSpec.perDim("inputDilation", spec.inputDilation(), rank);
        int[] kernelDilation = ConvSpec.perDim("kernelDilation", spec.kernelDilation(), rank);

        int[] lo = new int[rank];
        int[] hi = new int[rank];
        EdgeMode edge = EdgeMode.ZERO;
        Padding padding = spec.padding();
        if (padding instanceof Padding.Named named) {
            for (int d = 0; d < rank; d++) {
                if (inputDilation[d] != 1) {
                    throw new IllegalArgumentException("padding: " + named + " is a string padding and inputDilation is "
                            + Arrays.toString(inputDilation) + "; jax refuses string padding with input dilation "
                            + "other than 1 (give explicit (lo, hi) pairs, or use ConvTranspose)");
                }
            }
            // CAUSAL's rank rule, kept after the input-dilation refusal: a spec breaking both is refused for its
            // dilation here (a Conv built with it is refused for the rank, by ConvSpec.checkRank).
            spec.checkPaddingRank(rank);
            for (int d = 0; d < rank; d++) {
                // Checked here, before the paddings derived from it: every one of them is below the extent.
                checkSpan(d, inSpatial[d], inputDilation[d], kernelSpatial[d], kernelDilation[d], 0, 0);
                int extent = (kernelSpatial[d] - 1) * kernelDilation[d] + 1;
                switch (named) {
                    case SAME, SAME_LOWER -> {
                        int total = samePaddingTotal(inSpatial[d], strides[d], extent);
                        int small = total / 2;
                        lo[d] = named == Padding.SAME ? small : total - small;
                        hi[d] = total - lo[d];
                    }
                    case VALID -> {
                    }
                    case CIRCULAR, REFLECT -> {
                        // flax pads by the dilated kernel's extent, then runs VALID with the layer's stride.
                        lo[d] = (extent - 1) / 2;
                        hi[d] = extent / 2;
                    }
                    case CAUSAL -> lo[d] = (kernelSpatial[d] - 1) * kernelDilation[d];
                    default -> throw new AssertionError(named);
                }
            }
            if (named == Padding.CIRCULAR) {
                edge = EdgeMode.WRAP;
            } else if (named == Padding.REFLECT) {
                edge = EdgeMode.MIRROR;
            }
            if (edge != EdgeMode.ZERO) {
                for (int d = 0; d < rank; d++) {
                    if (inSpatial[d] == 0 && lo[d] + hi[d] > 0) {
                        throw new IllegalArgumentException("padding: " + named + " cannot pad spatial dim " + d
                                + " of size 0; the input " + Arrays.toString(inputShape) + " has nothing to wrap or mirror");
                    }
                }
            }
        } else if (padding instanceof Padding.Uniform uniform) {
            Arrays.fill(lo, uniform.amount());
            Arrays.fill(hi, uniform.amount());
        } else if (padding instanceof Padding.Explicit explicit) {
            spec.checkPaddingRank(rank);
            lo = explicit.lo();
            hi = explicit.hi();
        }
        return new ConvGeometry(batchShape, inSpatial, inChannels, kernelSpatial, outChannels, groups, strides,
                inputDilation, kernelDilation, lo, hi, edge, spec.precision(), DType.FLOAT32, false);
    }

    /**
     * @param inputShape the input's shape, named in the messages about its channels; null where the caller gave
     *     the channel count itself
     */
    private static void checkChannels(int inChannels, int outChannels, int groups, int kernelInChannels,
            int[] inputShape) {
        if (groups < 1) {
            throw new IllegalArgumentException("groups: got " + groups + "; feature groups must be >= 1");
        }
        if (inChannels % groups != 0) {
            throw new IllegalArgumentException("groups: input channels " + inChannels + " are not divisible by "
                    + groups + " groups; Cin % groups must be 0" + channelsLastNote(inputShape));
        }
        if (outChannels % groups != 0) {
            throw new IllegalArgumentException("groups: output channels " + outChannels + " are not divisible by "
                    + groups + " groups; Cout % groups must be 0");
        }
        if (kernelInChannels != inChannels / groups) {
            throw new IllegalArgumentException("kernel: has " + kernelInChannels + " input channels but the input has "
                    + inChannels + " channels in " + groups + " group(s); the kernel's second-to-last dim must be "
                    + "Cin/groups = " + (inChannels / groups) + channelsLastNote(inputShape));
        }
    }

    /**
     * The layout, for messages about the input's channels: an array in another framework's channels-first layout
     * (N, C, H, W) is the usual cause of a channel mismatch, and the numbers alone do not say so.
     */
    static String channelsLastNote(int[] inputShape) {
        return inputShape == null ? "" : "; inputs are channels-last (*batch, *spatial, C): C is the last dim of "
                + "the input's shape " + Arrays.toString(inputShape);
    }

    private static void checkDims(String name, int[] shape) {
        if (shape == null) {
            throw new IllegalArgumentException(name + ": got a null shape; expected its dims, each >= 0");
        }
        for (int size : shape) {
            if (size < 0) {
                throw new IllegalArgumentException(name + ": shape " + Arrays.toString(shape)
                        + " has a negative dim; sizes must be >= 0");
            }
        }
    }

    private static void checkAtLeast(String name, int[] values, int least) {
        for (int d = 0; d < values.length; d++) {
            if (values[d] < least) {
                throw new IllegalArgumentException(name + ": " + Arrays.toString(values) + " has " + values[d]
                        + " in spatial dim " + d + "; each must be >= " + least);
            }
        }
    }

    private static void checkElements(String name, int[] shape) {
        long count = 1;
        for (int size : shape) {
            count = checkedProduct(name + " shape " + Arrays.toString(shape), count, size);
        }
    }

    private static long checkedProduct(String what, long count, long size) {
        long product;
        try {
            product = Math.multiplyExact(count, size);
        } catch (ArithmeticException e) {
            product = Long.MAX_VALUE;
        }
        if (product > MAX_ELEMENTS) {
            throw new IllegalArgumentException(what + ": element count exceeds " + MAX_ELEMENTS
                    + ", the most a tensor can hold");
        }
        return product;
    }

    static long dilatedLength(int length, int dilation) {
        return length == 0 ? 0 : (long) (length - 1) * dilation + 1;
    }

    /**
     * Refuses a spatial dim whose dilated input, padding and kernel extent together span more positions
     * than an int can index: backends compute coordinates in 32-bit ints (OpenCL kernels included), and
     * jax's own arithmetic would be 64-bit, so such sizes would silently wrap around.
     */
    private static void checkSpan(int d, int length, int inputDilation, int kernelSize, int kernelDilation,
            int lo, int hi) {
        long extent = (long) (kernelSize - 1) * kernelDilation + 1;
        long span = dilatedLength(length, inputDilation) + Math.abs((long) lo) + Math.abs((long) hi) + extent;
        if (span > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("spatial dim " + d + ": input length " + length + " with inputDilation "
                    + inputDilation + ", padding (" + lo + ", " + hi + ") and kernel size " + kernelSize
                    + " with kernelDilation " + kernelDilation + " span " + span + " positions, more than "
                    + Integer.MAX_VALUE + "; sizes that overflow 32-bit indices are refused");
        }
    }

    /**
     * jax's {@code padtype_to_pads} for SAME: the padding, both sides together, that gives {@code ceil(size / stride)}
     * outputs of a window spanning {@code extent} positions (0 when none is needed). Shared by the convolutions and
     * the pooling windows, whose SAME is the same rule. The caller has checked that the sizes fit an int.
     */
    static int samePaddingTotal(int size, int stride, int extent) {
        long out = Math.floorDiv(size + (long) stride - 1, stride);
        return (int) Math.max((out - 1) * stride + extent - size, 0);
    }

    /** Number of spatial dims n. */
    public int rank() {
        return kernelSpatial.length;
    }

    public int[] batchShape() {
        return batchShape.clone();
    }

    /** Product of the batch dims (1 when unbatched). */
    public int batch() {
        return batch;
    }

    public int[] inSpatial() {
        return inSpatial.clone();
    }

    public int inChannels() {
        return inChannels;
    }

    public int[] kernelSpatial() {
        return kernelSpatial.clone();
    }

    public int outChannels() {
        return outChannels;
    }

    public int groups() {
        return groups;
    }

    public int inChannelsPerGroup() {
        return inChannels / groups;
    }

    public int outChannelsPerGroup() {
        return outChannels / groups;
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

    /** Padding before each spatial dim, in dilated-input coordinates; negative crops. */
    public int[] padLo() {
        return padLo.clone();
    }

    /** Padding after each spatial dim, in dilated-input coordinates; negative crops. */
    public int[] padHi() {
        return padHi.clone();
    }

    public EdgeMode edgeMode() {
        return edgeMode;
    }

    /** The precision the layer or call asked for. */
    public Precision precision() {
        return precision;
    }

    /**
     * The precision this convolution's products are computed in, on every backend: the one asked for, except
     * that a depthwise convolution (one input channel per group) stays {@link Precision#HIGHEST}. It is bound by
     * memory, so TF32 would cost accuracy for no speed, and cuDNN keeps it in float32 too.
     */
    public Precision productPrecision() {
        return inChannelsPerGroup() == 1 ? Precision.HIGHEST : precision;
    }

    /** This geometry computed in {@code precision} instead. */
    public ConvGeometry withPrecision(Precision precision) {
        return precision == this.precision ? this : new ConvGeometry(batchShape, inSpatial, inChannels, kernelSpatial,
                outChannels, groups, strides, inputDilation, kernelDilation, padLo, padHi, edgeMode, precision,
                storage, adjoint);
    }

    /**
     * The type the operands and the output are stored in: {@link DType#FLOAT32} unless the geometry was made
     * {@link #withStorage with another}. The products are float32 whatever it is; a 16-bit storage type only
     * changes what memory holds (its loads widen, its stores round to nearest even). A device forward on 16-bit
     * tensors plans with their type; every other computation is float32.
     */
    public DType storage() {
        return storage;
    }

    /** This geometry with its operands and output stored as {@code storage}. */
    public ConvGeometry withStorage(DType storage) {
        if (storage == null) {
            throw new IllegalArgumentException("storage: got null; expected DType.FLOAT32, FLOAT16 or BFLOAT16");
        }
        return storage == this.storage ? this : new ConvGeometry(batchShape, inSpatial, inChannels, kernelSpatial,
                outChannels, groups, strides, inputDilation, kernelDilation, padLo, padHi, edgeMode, precision,
                storage, adjoint);
    }

    public int[] outSpatial() {
        return outSpatial.clone();
    }

    /** {@code (*batch, *spatial, Cin)}. */
    public int[] inputShape() {
        return concat(batchShape, inSpatial, inChannels);
    }

    /** {@code (*k, Cin/groups, Cout)}. */
    public int[] kernelShape() {
        int[] shape = Arrays.copyOf(kernelSpatial, kernelSpatial.length + 2);
        shape[kernelSpatial.length] = inChannelsPerGroup();
        shape[kernelSpatial.length + 1] = outChannels;
        return shape;
    }

    /** {@code (*batch, *outSpatial, Cout)}. */
    public int[] outputShape() {
        return concat(batchShape, outSpatial, outChannels);
    }

    public int inputSpatialSize() {
        return product(inSpatial);
    }

    public int outputSpatialSize() {
        return product(outSpatial);
    }

    public int kernelTaps() {
        return product(kernelSpatial);
    }

    /** Dense-equivalent flops: {@code 2 * N * prod(outSpatial) * Cout * Cin/groups * prod(k)}. */
    public double flops() {
        return 2.0 * batch * outputSpatialSize() * outChannels * inChannelsPerGroup() * kernelTaps();
    }

    /**
     * For spatial dim d, the input coordinate that output position o reads through kernel tap t, at
     * {@code [o * k[d] + t]}, or -1 where it reads padding zeros or an inserted (dilation) zero. Wrap-around
     * and mirrored padding resolve to the input position they copy.
     */
    public int[] sourceIndexTable(int d) {
        int k = kernelSpatial[d];
        int[] table = new int[outSpatial[d] * k];
        for (int o = 0; o < outSpatial[d]; o++) {
            for (int t = 0; t < k; t++) {
                int q = o * strides[d] + t * kernelDilation[d] - padLo[d];
                table[o * k + t] = edgeMode.sourceIndex(q, inSpatial[d], inputDilation[d]);
            }
        }
        return table;
    }

    private static int[] concat(int[] head, int[] middle, int last) {
        int[] shape = new int[head.length + middle.length + 1];
        System.arraycopy(head, 0, shape, 0, head.length);
        System.arraycopy(middle, 0, shape, head.length, middle.length);
        shape[shape.length - 1] = last;
        return shape;
    }

    static int product(int[] sizes) {
        int p = 1;
        for (int s : sizes) {
            p *= s;
        }
        return p;
    }

    @Override
    public String toString() {
        return "ConvGeometry{input=" + Arrays.toString(inputShape()) + ", kernel=" + Arrays.toString(kernelShape())
                + ", output=" + Arrays.toString(outputShape()) + ", strides=" + Arrays.toString(strides)
                + ", inputDilation=" + Arrays.toString(inputDilation) + ", kernelDilation="
                + Arrays.toString(kernelDilation) + ", padLo=" + Arrays.toString(padLo) + ", padHi="
                + Arrays.toString(padHi) + ", edge=" + edgeMode + ", groups=" + groups
                + (precision == Precision.HIGHEST ? "" : ", precision=" + precision)
                + (storage == DType.FLOAT32 ? "" : ", storage=" + storage.cliName()) + "}";
    }
}
