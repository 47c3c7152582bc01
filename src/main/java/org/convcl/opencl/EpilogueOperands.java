package org.convcl.opencl;

import org.convcl.Epilogue;
import org.convcl.opencl.internal.plan.EpilogueBuffers;
import org.convcl.opencl.internal.plan.EpilogueShape;

/**
 * The device operands of an {@link Epilogue} on an {@link OpenClBackend}: checked against the output a fused store
 * writes (before anything is enqueued), and handed to the kernels as buffers. Stateless.
 */
final class EpilogueOperands {
    /**
     * Why scale and shift stay float32 on 16-bit operands (issue 26): they are per-channel factors, often folded
     * batch-norm statistics, whose float32 precision costs nothing in memory; the store rounds once, after them.
     */
    static final String FLOAT32_VECTORS = "an epilogue's scale and shift are float32 whatever the type of the "
            + "tensors it applies to (a 16-bit output is rounded once, after them)";

    private EpilogueOperands() {
    }

    /** Refuses a scale or shift (null ones skipped) that is not float32, by name and with the rule. */
    static void float32Vectors(Epilogue<DeviceTensor> epilogue) {
        if (epilogue.scale() != null) {
            OperandChecks.float32("scale", epilogue.scale(), FLOAT32_VECTORS);
        }
        if (epilogue.shift() != null) {
            OperandChecks.float32("shift", epilogue.shift(), FLOAT32_VECTORS);
        }
    }

    /** How the residual's shape is checked: as the output's own check, under the residual's name. */
    interface ShapeCheck {
        void check(String what, DeviceTensor tensor);
    }

    /**
     * Refuses operands that do not fit an output with {@code channels} channels: {@code scale} and {@code shift}
     * must have shape {@code (channels)}, {@code residual} the output's ({@code outputShape} checks it), all on
     * {@code backend} and open; scale and shift may not be the {@code output} (the kernels read them while writing
     * it), the residual may (the in-place residual add: each element's residual is read by the work-item that then
     * stores that element); scale and shift float32, the residual of the output's type. Returns the shape the
     * store is compiled for.
     */
    static EpilogueShape check(OpenClBackend backend, String operation, Epilogue<DeviceTensor> epilogue, int channels,
            ShapeCheck outputShape, DeviceTensor output) {
        if (epilogue == null || epilogue.isNone()) {
            return EpilogueShape.NONE;
        }
        if (epilogue.scale() != null) {
            OperandChecks.anyDType(backend, "epilogue scale (one value per output channel)", epilogue.scale(),
                    new int[] {channels});
            OperandChecks.float32("epilogue scale", epilogue.scale(), FLOAT32_VECTORS);
        }
        if (epilogue.shift() != null) {
            OperandChecks.anyDType(backend, "epilogue shift (one value per output channel)", epilogue.shift(),
                    new int[] {channels});
            OperandChecks.float32("epilogue shift", epilogue.shift(), FLOAT32_VECTORS);
        }
        if (epilogue.residual() != null) {
            outputShape.check("epilogue residual (the output's shape)", epilogue.residual());
            OperandChecks.oneDType(operation, new String[] {"output", "epilogue residual"}, output,
                    epilogue.residual());
        }
        OperandChecks.distinct(operation, output, epilogue.scale(), epilogue.shift());
        return EpilogueShape.of(epilogue);
    }

    /** The kernels' epilogue buffers of a checked {@code epilogue}; the residual read from its element 0. */
    static EpilogueBuffers buffers(Epilogue<DeviceTensor> epilogue) {
        if (epilogue == null || epilogue.isNone()) {
            return EpilogueBuffers.NONE;
        }
        return new EpilogueBuffers(epilogue.scale() == null ? null : epilogue.scale().buffer(),
                epilogue.shift() == null ? null : epilogue.shift().buffer(),
                epilogue.residual() == null ? null : epilogue.residual().buffer(), 0);
    }
}
