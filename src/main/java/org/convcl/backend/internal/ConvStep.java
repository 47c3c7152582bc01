package org.convcl.backend.internal;

import org.convcl.ConvGeometry;
import org.convcl.EdgePadding;
import org.convcl.internal.KernelLayout;

/**
 * One layer call as the convolution that runs it, the way jax derives {@code conv_transpose} from
 * {@code conv_general_dilated}: the convolution's geometry, the wrap-around sum that follows it for a transposed
 * convolution's CIRCULAR padding (null when none), and whether the layer holds its kernel flipped and
 * channel-swapped relative to what the convolution multiplies by (a ConvTranspose's {@code transposeKernel}).
 * A plain Conv is the convolution alone. Immutable.
 *
 * @param conv the convolution that runs the call
 * @param outputFold the wrap-around sum of the convolution's output onto the layer's, or null
 * @param kernelFlipSwapped whether the held kernel is {@code KernelLayout.flipSwap} (groups 1) of the convolution's
 * @param outputShape the layer's (channels-last) output shape
 */
public record ConvStep(ConvGeometry conv, EdgePadding outputFold, boolean kernelFlipSwapped, int[] outputShape) {
    public ConvStep {
        outputShape = outputShape.clone();
    }

    /** A plain convolution: no fold, the kernel as held. */
    public static ConvStep of(ConvGeometry conv) {
        return new ConvStep(conv, null, false, conv.outputShape());
    }

    @Override
    public int[] outputShape() {
        return outputShape.clone();
    }

    /** The held kernel (in the geometry's channels-last order, on the host) as the convolution multiplies by it. */
    public float[] convKernel(float[] heldKernel) {
        // flipSwap with one group is its own inverse, also on shapes: the held shape is the swapped conv shape.
        return kernelFlipSwapped
                ? KernelLayout.flipSwap(heldKernel, KernelLayout.flipSwapShape(conv.kernelShape(), 1), 1)
                : heldKernel;
    }
}
