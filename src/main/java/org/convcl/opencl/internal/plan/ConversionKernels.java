package org.convcl.opencl.internal.plan;

import org.convcl.DType;
import org.convcl.opencl.internal.runtime.BuildOptions;
import org.convcl.opencl.internal.runtime.ClBuffer;
import org.convcl.opencl.internal.runtime.ClKernel;
import org.convcl.opencl.internal.runtime.ClProgram;
import org.convcl.opencl.internal.runtime.OpenClContext;

/**
 * The float32 / float16 / bfloat16 conversions of {@code kernels/convert.cl}, compiled once per backend on first
 * use and shared by every call (lengths are run-time arguments). They give {@link org.convcl.HalfFloats}'s bits.
 * Thread-safe: {@link ClKernel#launch} serialises argument setting per kernel object. Closed with its backend.
 */
public final class ConversionKernels implements AutoCloseable {
    static final String SOURCE = "convert.cl";
    /** Items per work-group, as the other element-wise kernels ({@link WorkGroupSize}): the group size is free. */
    private static final int GROUP_ITEMS = 64;

    private final ClKernel floatToHalf;
    private final ClKernel halfToFloat;
    private final ClKernel floatToBfloat16;
    private final ClKernel bfloat16ToFloat;
    private final int workGroupSize;

    private ConversionKernels(ClKernel[] kernels, int workGroupSize) {
        this.floatToHalf = kernels[0];
        this.halfToFloat = kernels[1];
        this.floatToBfloat16 = kernels[2];
        this.bfloat16ToFloat = kernels[3];
        this.workGroupSize = workGroupSize;
    }

    public static ConversionKernels create(OpenClContext context) {
        String[] names = {"float_to_half", "half_to_float", "float_to_bfloat16", "bfloat16_to_float"};
        ClKernel[] kernels = new ClKernel[names.length];
        try {
            ClProgram program = context.program(SOURCE, new BuildOptions().toString());
            long limit = Long.MAX_VALUE;
            for (int i = 0; i < names.length; i++) {
                kernels[i] = context.kernel(program, names[i]);
                limit = Math.min(limit, kernels[i].maxWorkGroupSize(context.device().handle()));
            }
            return new ConversionKernels(kernels, (int) Math.max(1, Math.min(GROUP_ITEMS, limit)));
        } catch (RuntimeException e) {
            for (ClKernel kernel : kernels) {
                if (kernel != null) {
                    kernel.close();
                }
            }
            throw e;
        }
    }

    /** Enqueues {@code packed[i] = the bits of floats[i] rounded to type} for i below {@code length}. */
    public void encode(OpenClContext context, DType type, int length, ClBuffer floats, ClBuffer packed) {
        launch(context, type == DType.FLOAT16 ? floatToHalf : floatToBfloat16, length, floats, packed);
    }

    /** Enqueues {@code floats[i] = the value of packed[i], of type, as float32} for i below {@code length}. */
    public void decode(OpenClContext context, DType type, int length, ClBuffer packed, ClBuffer floats) {
        launch(context, type == DType.FLOAT16 ? halfToFloat : bfloat16ToFloat, length, packed, floats);
    }

    private void launch(OpenClContext context, ClKernel kernel, int length, ClBuffer source, ClBuffer target) {
        long global = Math.max(1, ((long) length + workGroupSize - 1) / workGroupSize) * workGroupSize;
        kernel.launch(context.queue(), new long[] {global}, new long[] {workGroupSize}, length, source, target);
    }

    @Override
    public void close() {
        floatToHalf.close();
        halfToFloat.close();
        floatToBfloat16.close();
        bfloat16ToFloat.close();
    }
}
