package org.convcl.opencl.internal.plan;

import org.convcl.opencl.internal.runtime.ClBuffer;

/**
 * The device operands of a fused store's epilogue for one launch: each null when the epilogue lacks that part. The
 * kernels take all three buffers whatever they were compiled for; an absent one is bound to a buffer the kernel
 * never reads ({@link #arguments}). Immutable.
 *
 * @param scale          per-output-channel factors, or null
 * @param shift          per-output-channel offsets, or null
 * @param residual       a tensor of the output's shape, or null
 * @param residualOffset the element of {@code residual} that goes with the launch's first output element
 */
public record EpilogueBuffers(ClBuffer scale, ClBuffer shift, ClBuffer residual, int residualOffset) {
    /** No epilogue operands: a plain store. */
    public static final EpilogueBuffers NONE = new EpilogueBuffers(null, null, null, 0);

    /** The kernels' four trailing arguments: the three buffers ({@code absent} where one is null) and the offset. */
    Object[] arguments(ClBuffer absent) {
        return new Object[] {scale == null ? absent : scale, shift == null ? absent : shift,
            residual == null ? absent : residual, residualOffset};
    }

    @Override
    public String toString() {
        return "operands (" + (scale != null ? "scale " : "") + (shift != null ? "shift " : "")
                + (residual != null ? "residual" : "") + ")";
    }
}
