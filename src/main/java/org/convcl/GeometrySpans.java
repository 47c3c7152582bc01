package org.convcl;

import java.util.Arrays;

/**
 * The 32-bit limits of the convolutions a geometry derives, checked with the geometry itself so that a call is
 * refused before any work: backends compute coordinates and table offsets in ints (the OpenCL kernels too),
 * and a forward whose own sizes fit can still derive one that does not. The input gradient is a convolution
 * of {@code dy} whose input dilation is the forward stride ({@link AdjointGeometry#inputGradient}), so a huge
 * stride over a few outputs spans as many positions as a huge input dilation; the kernel gradient reads the
 * forward's (output position, tap) pairs. Stateless.
 */
final class GeometrySpans {
    private GeometrySpans() {
    }

    /**
     * Refuses spatial dim {@code d} of a geometry when its input gradient's dilated, padded extent (computed as
     * {@link AdjointGeometry} builds it, on the explicitly padded input for wrap-around and mirrored padding)
     * spans more positions than an int can index.
     */
    static void checkInputGradient(int d, int length, int inputDilation, int kernelSize, int kernelDilation,
            int stride, int lo, int hi, int outputs, EdgeMode edgeMode) {
        long extent = (long) (kernelSize - 1) * kernelDilation + 1;
        long dilatedInput = ConvGeometry.dilatedLength(length, inputDilation);
        long padLo = lo;
        if (edgeMode != EdgeMode.ZERO) {
            // The gradient runs on the padded copy of the input (VALID, no input dilation), then folds it.
            dilatedInput += (long) lo + hi;
            padLo = 0;
        }
        long dilatedOutput = ConvGeometry.dilatedLength(outputs, stride);
        long adjointLo = extent - 1 - padLo;
        long adjointHi = dilatedInput + extent - 1 - dilatedOutput - adjointLo;
        long span = dilatedOutput + Math.abs(adjointLo) + Math.abs(adjointHi) + extent;
        if (span > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("spatial dim " + d + ": the input gradient of strides " + stride
                    + " over " + outputs + " output positions, input length " + length + " with inputDilation "
                    + inputDilation + ", padding (" + lo + ", " + hi + ") and kernel size " + kernelSize
                    + " with kernelDilation " + kernelDilation + " is a convolution whose input dilation is the "
                    + "stride, spanning " + span + " positions, more than " + Integer.MAX_VALUE
                    + "; sizes that overflow 32-bit indices are refused");
        }
    }

    /**
     * Refuses mirrored padding of a dim whose reflection period {@code 2 * (length - 1)} exceeds an int: the
     * Java path ({@link EdgeMode#sourceIndex}) and the kernels fold coordinates modulo it in ints.
     */
    static void checkMirrorPeriod(int d, int length, EdgeMode edgeMode) {
        long period = 2L * (length - 1);
        if (edgeMode == EdgeMode.MIRROR && period > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("padding: REFLECT mirrors spatial dim " + d + " of length " + length
                    + " with period 2 * (length - 1) = " + period + ", more than " + Integer.MAX_VALUE
                    + "; sizes that overflow 32-bit indices are refused");
        }
    }

    /**
     * Refuses a geometry whose per-dim source-index tables (one entry per output position and tap, for the
     * forward and the kernel gradient; per input position and tap for the input gradient) would hold more
     * entries than an int-indexed array can.
     */
    static void checkTables(int[] inSpatial, int[] kernelSpatial, int[] outSpatial, int[] padded) {
        long forward = 0;
        long adjoint = 0;
        for (int d = 0; d < kernelSpatial.length; d++) {
            forward += (long) outSpatial[d] * kernelSpatial[d];
            adjoint += (long) Math.max(inSpatial[d], padded[d]) * kernelSpatial[d];
        }
        long entries = Math.max(forward, adjoint);
        if (entries > ConvGeometry.MAX_ELEMENTS) {
            throw new IllegalArgumentException("kernel: spatial sizes " + Arrays.toString(kernelSpatial)
                    + " over input " + Arrays.toString(inSpatial) + " and output "
                    + Arrays.toString(outSpatial) + " make " + entries + " (position, tap) pairs per "
                    + "dim in all, more than " + ConvGeometry.MAX_ELEMENTS + ", the most the index tables of the "
                    + "forward and gradient passes can hold; sizes that overflow 32-bit indices are refused");
        }
    }
}
