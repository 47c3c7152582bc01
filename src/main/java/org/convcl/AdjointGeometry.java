package org.convcl;

import java.util.Arrays;
import org.convcl.internal.KernelLayout;

/**
 * The convolutions that gradients are made of, derived from a forward geometry the way jax derives them
 * ({@code _conv_general_dilated_transpose_lhs} and {@code _conv_general_vjp_lhs_padding}): the gradient of
 * a convolution with respect to its input is itself a convolution, of the output gradient with the
 * spatially flipped, channel-swapped kernel ({@link KernelLayout#flipSwap}), so it runs on the one engine
 * ({@link org.convcl.backend.ConvBackend#forward}).
 *
 * <p>Stateless; every method is a pure function of its arguments.
 */
public final class AdjointGeometry {
    private AdjointGeometry() {
    }

    /**
     * The convolution computing {@code dx} from {@code dy} for a zero-padded forward geometry {@code g}:
     * input {@code dy (*batch, *outSpatial, Cout)}, kernel {@code (*k, Cout/groups, Cin)} (flipped and
     * channel-swapped per group), output {@code (*batch, *inSpatial, Cin)}. Its window stride is the forward
     * input dilation and its input dilation the forward stride (stepping back over the positions the forward
     * skipped); kernel dilation and groups are unchanged. Padding per dim, in the coordinates of the dilated
     * {@code dy}: {@code lo' = ke - 1 - lo} and {@code hi' = Ld + ke - 1 - Od - lo'}, where {@code ke} is the
     * dilated kernel extent, {@code Ld} the dilated input length and {@code Od} the stride-dilated output
     * length; {@code hi'} absorbs input the forward never reached (the floor in its output length).
     *
     * @throws IllegalArgumentException when {@code g} pads by wrap-around or mirroring; fold those through
     *                                  {@link #paddedInput} and {@link EdgePadding#ofInput}
     */
    public static ConvGeometry inputGradient(ConvGeometry g) {
        if (g == null) {
            throw new IllegalArgumentException("g: got null; expected the forward convolution's ConvGeometry");
        }
        if (g.edgeMode() != EdgeMode.ZERO) {
            throw new IllegalArgumentException("geometry: edge mode " + g.edgeMode() + " reads the input more than "
                    + "once; take the input gradient of paddedInput(g) and fold it with EdgePadding.ofInput(g)");
        }
        int rank = g.rank();
        int[] inSpatial = g.inSpatial();
        int[] outSpatial = g.outSpatial();
        int[] kernelSpatial = g.kernelSpatial();
        int[] strides = g.strides();
        int[] inputDilation = g.inputDilation();
        int[] kernelDilation = g.kernelDilation();
        int[] padLo = g.padLo();
        int[] lo = new int[rank];
        int[] hi = new int[rank];
        for (int d = 0; d < rank; d++) {
            int extent = Math.toIntExact(ConvGeometry.dilatedLength(kernelSpatial[d], kernelDilation[d]));
            int dilatedInput = Math.toIntExact(ConvGeometry.dilatedLength(inSpatial[d], inputDilation[d]));
            int dilatedOutput = Math.toIntExact(ConvGeometry.dilatedLength(outSpatial[d], strides[d]));
            lo[d] = extent - 1 - padLo[d];
            hi[d] = dilatedInput + extent - 1 - dilatedOutput - lo[d];
        }
        return ConvGeometry.explicit(g.batchShape(), outSpatial, g.outChannels(), kernelSpatial, g.inChannels(),
                g.groups(), inputDilation, strides, kernelDilation, lo, hi, EdgeMode.ZERO, g.precision(), true);
    }

    /**
     * For a geometry that pads by wrap-around or mirroring: the same convolution as a VALID one over the
     * explicitly padded input ({@link EdgePadding#ofInput}), whose input gradient {@link #inputGradient} can
     * take. A zero-padded geometry is returned as it is.
     */
    public static ConvGeometry paddedInput(ConvGeometry g) {
        if (g == null) {
            throw new IllegalArgumentException("g: got null; expected the forward convolution's ConvGeometry");
        }
        if (g.edgeMode() == EdgeMode.ZERO) {
            return g;
        }
        int rank = g.rank();
        int[] padded = EdgePadding.ofInput(g).paddedSpatial();
        int[] one = new int[rank];
        Arrays.fill(one, 1);
        return ConvGeometry.explicit(g.batchShape(), padded, g.inChannels(), g.kernelSpatial(), g.outChannels(),
                g.groups(), g.strides(), one, g.kernelDilation(), new int[rank], new int[rank], EdgeMode.ZERO,
                g.precision());
    }
}
