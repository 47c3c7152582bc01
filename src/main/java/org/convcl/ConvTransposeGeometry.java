package org.convcl;

import java.util.Arrays;
import org.convcl.internal.KernelLayout;

/**
 * A transposed convolution resolved against concrete shapes, as flax {@code nnx.ConvTranspose} computes it:
 * {@code lax.conv_transpose}, which is an ordinary convolution with input dilation = the strides, window
 * stride 1 and the transpose padding rule, so it runs on the one engine; for CIRCULAR padding flax then runs
 * it VALID and wraps the result onto a period of {@code L * stride} per dim, which is an {@link EdgePadding}
 * fold of the convolution's output.
 *
 * <p>Padding rules (per dim, {@code ke = (k - 1) * kernelDilation + 1}, s the stride), in the coordinates of
 * the stride-dilated input: SAME pads {@code ke + s - 2} in all, {@code ke - 1} before when {@code s > ke - 1}
 * and else {@code ceil((ke + s - 2) / 2)}, giving {@code L * s} outputs; VALID pads {@code ke - 1} before and
 * {@code s - 1 + max(ke - s, 0)} after, giving {@code L * s + max(ke - s, 0)}; an int or explicit pairs are
 * used as they are (negative crops); SAME_LOWER is jax's ordinary SAME_LOWER and, as in jax, only with
 * stride 1. CIRCULAR wraps the VALID result: with {@code Y} its length and {@code P = L * s}, flax pads it by
 * {@code D = (P - Y) mod 2P} split {@code ((D + 1) / 2, D / 2)} (or {@code (D / 2, (D + 1) / 2)} with
 * transposeKernel) and sums the periods, so output i gathers every {@code y[j]} with
 * {@code (j + lowPad) mod P == i}.
 *
 * <p>Immutable and thread-safe.
 */
public final class ConvTransposeGeometry {
    /** jax's conv_transpose has default dimension numbers only up to 3 spatial dims, so flax stops there. */
    public static final int MAX_RANK = 3;

    private final ConvGeometry conv;
    private final EdgePadding circularFold;
    private final boolean transposeKernel;
    private final int[] kernelShape;
    private final int[] outputShape;

    private ConvTransposeGeometry(ConvGeometry conv, EdgePadding circularFold, boolean transposeKernel,
            int[] kernelShape) {
        this.conv = conv;
        this.circularFold = circularFold;
        this.transposeKernel = transposeKernel;
        this.kernelShape = kernelShape.clone();
        if (circularFold == null) {
            this.outputShape = conv.outputShape();
        } else {
            int[] batchShape = conv.batchShape();
            int[] shape = Arrays.copyOf(batchShape, batchShape.length + conv.rank() + 1);
            System.arraycopy(circularFold.sourceSpatial(), 0, shape, batchShape.length, conv.rank());
            shape[shape.length - 1] = conv.outChannels();
            this.outputShape = shape;
        }
    }

    static ConvTransposeGeometry resolve(ConvTransposeSpec spec, int[] inputShape, int[] kernelShape) {
        if (inputShape == null || kernelShape == null) {
            throw new IllegalArgumentException((inputShape == null ? "input" : "kernel")
                    + ": got a null shape; expected its dims, each >= 0");
        }
        if (kernelShape.length < 3) {
            throw new IllegalArgumentException("kernel: shape " + Arrays.toString(kernelShape) + " has rank "
                    + kernelShape.length + "; a ConvTranspose kernel is (*k, Cin, Cout) (or (*k, Cout, Cin) with "
                    + "transposeKernel) with at least one spatial dim, so rank >= 3");
        }
        int rank = kernelShape.length - 2;
        checkMaxRank(kernelShape);
        if (inputShape.length < rank + 1) {
            throw new IllegalArgumentException("input: shape " + Arrays.toString(inputShape) + " has rank "
                    + inputShape.length + " but a " + rank + "-d kernel needs (*batch, *spatial, Cin) with rank >= "
                    + (rank + 1));
        }
        for (int[] shape : new int[][] {inputShape, kernelShape}) {
            for (int size : shape) {
                if (size < 0) {
                    throw new IllegalArgumentException((shape == inputShape ? "input" : "kernel") + ": shape "
                            + Arrays.toString(shape) + " has a negative dim; sizes must be >= 0");
                }
            }
        }
        int inChannels = inputShape[inputShape.length - 1];
        boolean transposed = spec.transposeKernel();
        int kernelIn = kernelShape[transposed ? rank + 1 : rank];
        int outChannels = kernelShape[transposed ? rank : rank + 1];
        if (kernelIn != inChannels) {
            throw new IllegalArgumentException("kernel: shape " + Arrays.toString(kernelShape) + " has " + kernelIn
                    + " input channels but the input has " + inChannels + "; a ConvTranspose kernel is "
                    + (transposed ? "(*k, Cout, Cin) with transposeKernel" : "(*k, Cin, Cout)")
                    + ConvGeometry.channelsLastNote(inputShape));
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
        int[] strides = ConvSpec.perDim("strides", spec.strides(), rank);
        int[] kernelDilation = ConvSpec.perDim("kernelDilation", spec.kernelDilation(), rank);

        int[] lo = new int[rank];
        int[] hi = new int[rank];
        Padding padding = spec.padding();
        boolean circular = padding == Padding.CIRCULAR;
        if (padding instanceof Padding.Named named) {
            for (int d = 0; d < rank; d++) {
                // In longs: a huge kernel dilation or stride gives paddings beyond an int, refused below.
                long extent = (long) (kernelSpatial[d] - 1) * kernelDilation[d] + 1;
                long[] pair = transposePadding(named, extent, strides, d, inputShape);
                lo[d] = paddingInt(pair[0], named, strides, kernelDilation, extent, d);
                hi[d] = paddingInt(pair[1], named, strides, kernelDilation, extent, d);
            }
        } else if (padding instanceof Padding.Uniform uniform) {
            Arrays.fill(lo, uniform.amount());
            Arrays.fill(hi, uniform.amount());
        } else if (padding instanceof Padding.Explicit explicit) {
            ConvSpec.checkExplicitPaddingRank(explicit, rank);
            lo = explicit.lo();
            hi = explicit.hi();
        }
        int[] one = new int[rank];
        Arrays.fill(one, 1);
        ConvGeometry conv = ConvGeometry.explicit(batchShape, inSpatial, inChannels, kernelSpatial, outChannels, 1,
                one, strides, kernelDilation, lo, hi, EdgeMode.ZERO, spec.precision());
        EdgePadding fold = circular ? circularFold(conv, strides, transposed) : null;
        return new ConvTransposeGeometry(conv, fold, transposed, kernelShape);
    }

    /**
     * Refuses a kernel {@code (*k, Cin, Cout)} with more spatial dims than jax's conv_transpose takes; also
     * {@link org.convcl.nn.ConvTranspose}'s check when a layer is built.
     */
    public static void checkMaxRank(int[] kernelShape) {
        if (kernelShape == null) {
            throw new IllegalArgumentException("kernelShape: got null; expected the kernel's dims");
        }
        int rank = kernelShape.length - 2;
        if (rank > MAX_RANK) {
            throw new IllegalArgumentException("kernel: shape " + Arrays.toString(kernelShape) + " has " + rank
                    + " spatial dims; nnx.ConvTranspose (jax's conv_transpose) supports at most " + MAX_RANK);
        }
    }

    /** jax's {@code _conv_transpose_padding} for SAME and VALID (CIRCULAR runs VALID); SAME_LOWER as jax passes it on. */
    private static long[] transposePadding(Padding.Named named, long extent, int[] strides, int d, int[] inputShape) {
        long stride = strides[d];
        switch (named) {
            case SAME -> {
                long total = extent + stride - 2;
                long before = stride > extent - 1 ? extent - 1 : (total + 1) / 2;
                return new long[] {before, total - before};
            }
            case VALID, CIRCULAR -> {
                long total = extent + stride - 2 + Math.max(extent - stride, 0);
                return new long[] {extent - 1, total - (extent - 1)};
            }
            case SAME_LOWER -> {
                for (int s : strides) {
                    if (s != 1) {
                        throw new IllegalArgumentException("padding: SAME_LOWER with strides "
                                + Arrays.toString(strides) + "; jax's conv_transpose passes SAME_LOWER on as a string "
                                + "padding, which it refuses with input dilation (strides) other than 1; use SAME, "
                                + "VALID or explicit pairs");
                    }
                }
                // With stride 1 it is an ordinary SAME_LOWER convolution: output length = input length.
                long total = extent - 1;
                return new long[] {total - total / 2, total / 2};
            }
            default -> throw new IllegalArgumentException("padding: " + named + " is not a ConvTranspose padding; "
                    + "nnx.ConvTranspose takes SAME, VALID, CIRCULAR, an int or (lo, hi) pairs (jax refuses "
                    + named + " in conv_transpose), input shape " + Arrays.toString(inputShape));
        }
    }

    /** A derived padding amount as an int, or a refusal naming the settings it came from. */
    private static int paddingInt(long amount, Padding.Named named, int[] strides, int[] kernelDilation, long extent,
            int d) {
        if (amount > Integer.MAX_VALUE || amount < Integer.MIN_VALUE) {
            throw new IllegalArgumentException("padding: " + named + " with strides " + Arrays.toString(strides)
                    + " and kernelDilation " + Arrays.toString(kernelDilation) + " (kernel extent " + extent
                    + ") pads spatial dim " + d + " by " + amount + ", more than " + Integer.MAX_VALUE
                    + "; sizes that overflow 32-bit indices are refused");
        }
        return (int) amount;
    }

    private static EdgePadding circularFold(ConvGeometry conv, int[] strides, boolean transposed) {
        int rank = conv.rank();
        int[] inSpatial = conv.inSpatial();
        int[] valid = conv.outSpatial();
        int[] period = new int[rank];
        int[] lo = new int[rank];
        for (int d = 0; d < rank; d++) {
            if (inSpatial[d] == 0) {
                throw new IllegalArgumentException("padding: CIRCULAR cannot wrap spatial dim " + d + " of size 0; "
                        + "its period (input size * stride) would be 0");
            }
            long wrap = (long) inSpatial[d] * strides[d];
            if (wrap > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("strides: " + Arrays.toString(strides) + " with CIRCULAR padding "
                        + "wrap spatial dim " + d + " of size " + inSpatial[d] + " with period " + wrap
                        + ", more than " + Integer.MAX_VALUE + "; sizes that overflow 32-bit indices are refused");
            }
            period[d] = (int) wrap;
            long sizeDiff = Math.floorMod(wrap - valid[d], 2 * wrap);
            // Below the period, so an int.
            int before = (int) (transposed ? sizeDiff / 2 : (sizeDiff + 1) / 2);
            // A padded element at q lands on output (q + before) mod P: the source of q is at q - (-before).
            lo[d] = -before;
        }
        return new EdgePadding(conv.batch(), conv.outChannels(), period, valid, lo, EdgeMode.WRAP);
    }

    /** The convolution that runs the transposed one (before any CIRCULAR wrap), kernel {@code (*k, Cin, Cout)}. */
    public ConvGeometry conv() {
        return conv;
    }

    /** For CIRCULAR padding, the wrap of {@link #conv()}'s output onto the period; null otherwise. */
    public EdgePadding circularFold() {
        return circularFold;
    }

    public boolean transposeKernel() {
        return transposeKernel;
    }

    /** The kernel shape as the layer holds it: {@code (*k, Cin, Cout)}, or {@code (*k, Cout, Cin)} transposed. */
    public int[] kernelShape() {
        return kernelShape.clone();
    }

    public int[] inputShape() {
        return conv.inputShape();
    }

    /** {@code (*batch, *outSpatial, Cout)}. */
    public int[] outputShape() {
        return outputShape.clone();
    }

    /** The kernel in the layout {@link #conv()} multiplies by: flipped and channel-swapped when transposed. */
    public float[] convKernel(float[] kernel) {
        return transposeKernel ? KernelLayout.flipSwap(kernel, kernelShape, 1) : kernel;
    }

    @Override
    public String toString() {
        return "ConvTransposeGeometry{conv=" + conv + ", circularFold=" + circularFold + ", transposeKernel="
                + transposeKernel + ", output=" + Arrays.toString(outputShape) + "}";
    }
}
