package org.convcl.opencl.internal.plan;

import java.util.List;
import org.convcl.DType;
import org.convcl.opencl.internal.runtime.BuildOptions;
import org.convcl.opencl.internal.runtime.ClBuffer;
import org.convcl.opencl.internal.runtime.ClKernel;
import org.convcl.opencl.internal.runtime.ClProgram;
import org.convcl.opencl.internal.runtime.OpenClContext;

/**
 * The backward pass's size-agnostic kernels, compiled once per backend on first use and shared by every call
 * (sizes are run-time arguments): the two passes of the deterministic sums ({@code kernels/reductions.cl})
 * and the kernel-layout operations ({@code kernels/tensor_ops.cl}). Thread-safe: {@link ClKernel#launch}
 * serialises argument setting per kernel object. Compiled per storage type ({@code kernels/storage.cl}): the
 * summed values, the sums' results and the layout operations' elements are of that type, partial sums float32.
 * Closed with its backend.
 */
public final class ElementKernels implements AutoCloseable {
    static final String REDUCTIONS_SOURCE = "reductions.cl";
    static final String TENSOR_OPS_SOURCE = "tensor_ops.cl";
    /** Rows summed in plain float before a compensated add, in {@link #columnPartials}. */
    public static final int BLOCK_ROWS = 16;

    private final ClKernel columnPartials;
    private final ClKernel sumPartials;
    private final ClKernel flipSwap;
    private final ClKernel multiplyInPlace;
    private final int workGroupSize;

    private ElementKernels(ClKernel columnPartials, ClKernel sumPartials, ClKernel flipSwap,
            ClKernel multiplyInPlace, int workGroupSize) {
        this.columnPartials = columnPartials;
        this.sumPartials = sumPartials;
        this.flipSwap = flipSwap;
        this.multiplyInPlace = multiplyInPlace;
        this.workGroupSize = workGroupSize;
    }

    /** The float32 kernels. */
    public static ElementKernels create(OpenClContext context) {
        return create(context, DType.FLOAT32);
    }

    /** The kernels on elements of {@code storage}. */
    public static ElementKernels create(OpenClContext context, DType storage) {
        ClKernel[] kernels = new ClKernel[4];
        try {
            ClProgram reductions = context.program(List.of(StorageOption.SOURCE, REDUCTIONS_SOURCE),
                    StorageOption.define(new BuildOptions().define("BLOCK_ROWS", BLOCK_ROWS), storage).toString());
            ClProgram tensorOps = context.program(List.of(StorageOption.SOURCE, TENSOR_OPS_SOURCE),
                    StorageOption.define(new BuildOptions(), storage).toString());
            kernels[0] = context.kernel(reductions, "column_partials");
            kernels[1] = context.kernel(reductions, "sum_partials");
            kernels[2] = context.kernel(tensorOps, "flip_swap");
            kernels[3] = context.kernel(tensorOps, "multiply_in_place");
            long limit = Long.MAX_VALUE;
            for (ClKernel kernel : kernels) {
                limit = Math.min(limit, kernel.maxWorkGroupSize(context.device().handle()));
            }
            return new ElementKernels(kernels[0], kernels[1], kernels[2], kernels[3],
                    (int) Math.max(1, Math.min(64, limit)));
        } catch (RuntimeException e) {
            for (ClKernel kernel : kernels) {
                if (kernel != null) {
                    kernel.close();
                }
            }
            throw e;
        }
    }

    /** Split s of {@code partials} ({@code channels} floats) gets the column sums of its rows of {@code values}. */
    public void columnPartials(OpenClContext context, int rows, int channels, ReductionSplit split, ClBuffer values,
            ClBuffer partials) {
        columnPartials.launch(context.queue(), new long[] {roundUp(channels), split.splits()},
                new long[] {workGroupSize, 1}, rows, channels, split.rowsPerSplit(), values, partials);
    }

    /** {@code result[i] = sum over s < splits of partials[s * length + i]}, in split order. */
    public void sumPartials(OpenClContext context, int splits, int length, ClBuffer partials, ClBuffer result) {
        sumPartials.launch(context.queue(), new long[] {roundUp(length)}, new long[] {workGroupSize}, splits, length,
                partials, result);
    }

    /** {@code KernelLayout.flipSwap} of a kernel {@code (*k, a, groups * b)} with {@code taps} taps. */
    public void flipSwap(OpenClContext context, int taps, int a, int b, int groups, ClBuffer kernel, ClBuffer result) {
        long length = (long) taps * a * b * groups;
        flipSwap.launch(context.queue(), new long[] {roundUp(length)}, new long[] {workGroupSize}, taps, a, b, groups,
                kernel, result);
    }

    /** {@code values[i] *= factors[i]} for i below {@code length}. */
    public void multiplyInPlace(OpenClContext context, int length, ClBuffer values, ClBuffer factors) {
        multiplyInPlace.launch(context.queue(), new long[] {roundUp(length)}, new long[] {workGroupSize}, length,
                values, factors);
    }

    /** Work-items per work-group of these kernels, for choosing how finely to split a reduction. */
    public int workGroupSize() {
        return workGroupSize;
    }

    private long roundUp(long count) {
        return Math.max(1, (count + workGroupSize - 1) / workGroupSize) * workGroupSize;
    }

    @Override
    public void close() {
        columnPartials.close();
        sumPartials.close();
        flipSwap.close();
        multiplyInPlace.close();
    }
}
