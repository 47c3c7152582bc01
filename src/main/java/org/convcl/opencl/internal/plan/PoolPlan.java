package org.convcl.opencl.internal.plan;

import java.util.Arrays;
import java.util.List;
import org.convcl.DType;
import org.convcl.PoolGeometry;
import org.convcl.PoolOp;
import org.convcl.opencl.internal.runtime.BuildOptions;
import org.convcl.opencl.internal.runtime.ClBuffer;
import org.convcl.opencl.internal.runtime.ClKernel;
import org.convcl.opencl.internal.runtime.ClProgram;
import org.convcl.opencl.internal.runtime.OpenClContext;

/**
 * One pooling ({@code kernels/pooling.cl}) on one device for one geometry, batch aside: its kernels and its
 * per-dim size table. The program depends only on the rank, the operation and {@code countIncludePad}, so
 * every pooling of those shares one compile; the table carries the sizes. Built once per shape by
 * {@code PoolOps} and kept in the backend's plan cache; closed with its backend.
 */
public final class PoolPlan implements AutoCloseable {
    static final String SOURCE = "pooling.cl";

    private final PoolOp op;
    private final ClKernel forward;
    /** The max/min gradient's choice of element per window; null for AVG. */
    private final ClKernel select;
    private final ClKernel backward;
    private final ClBuffer dims;
    private final int channels;
    private final int inPixels;
    private final int outPixels;
    private final int windowSize;
    private final int workGroupSize;

    private PoolPlan(PoolOp op, ClKernel forward, ClKernel select, ClKernel backward, ClBuffer dims,
            PoolGeometry g, int workGroupSize) {
        this.op = op;
        this.forward = forward;
        this.select = select;
        this.backward = backward;
        this.dims = dims;
        this.channels = g.channels();
        this.inPixels = product(g.inSpatial());
        this.outPixels = product(g.outSpatial());
        this.windowSize = product(g.window());
        this.workGroupSize = workGroupSize;
    }

    /** What identifies a plan: the operation and the geometry without its batch. */
    public static String key(PoolOp op, PoolGeometry g) {
        return op + " in=" + Arrays.toString(g.inSpatial()) + " window=" + Arrays.toString(g.window())
                + " strides=" + Arrays.toString(g.strides()) + " lo=" + Arrays.toString(g.padLo()) + " hi="
                + Arrays.toString(g.padHi()) + " channels=" + g.channels() + " countIncludePad="
                + countIncludePad(op, g);
    }

    private static boolean countIncludePad(PoolOp op, PoolGeometry g) {
        return op != PoolOp.AVG || g.countIncludePad();
    }

    /** As {@link #key(PoolOp, PoolGeometry)} for values of {@code storage} (float32 keys as before). */
    public static String key(PoolOp op, PoolGeometry g, DType storage) {
        return key(op, g) + (storage == DType.FLOAT32 ? "" : " storage=" + storage.cliName());
    }

    public static PoolPlan create(OpenClContext context, PoolOp op, PoolGeometry g) {
        return create(context, op, g, DType.FLOAT32);
    }

    /** The plan for values of {@code storage} ({@code kernels/storage.cl}'s loads and stores). */
    public static PoolPlan create(OpenClContext context, PoolOp op, PoolGeometry g, DType storage) {
        // countIncludePad changes AVG alone: max and min share one program (and plan) for both settings.
        BuildOptions options = StorageOption.define(new BuildOptions().define("RANK", g.rank())
                .define("POOL_OP", op.ordinal()).define("COUNT_INCLUDE_PAD", countIncludePad(op, g)), storage);
        ClKernel[] kernels = new ClKernel[3];
        ClBuffer table = null;
        try {
            int[] values = table(g);
            table = context.allocate(4L * values.length, "pooling size table");
            context.write(table, values);
            ClProgram program = context.program(List.of(StorageOption.SOURCE, SOURCE), options.toString());
            kernels[0] = context.kernel(program, "pool_forward");
            kernels[1] = op == PoolOp.AVG ? null : context.kernel(program, "pool_select");
            kernels[2] = context.kernel(program, "pool_backward");
            long limit = Long.MAX_VALUE;
            for (ClKernel kernel : kernels) {
                if (kernel != null) {
                    limit = Math.min(limit, kernel.maxWorkGroupSize(context.device().handle()));
                }
            }
            return new PoolPlan(op, kernels[0], kernels[1], kernels[2], table, g,
                    (int) Math.max(1, Math.min(64, limit)));
        } catch (RuntimeException failure) {
            for (ClKernel kernel : kernels) {
                if (kernel != null) {
                    kernel.close();
                }
            }
            if (table != null) {
                table.close();
            }
            throw failure;
        }
    }

    /** Five ints per spatial dim, as {@code pooling.cl} reads them: input, output, window, stride, padding before. */
    static int[] table(PoolGeometry g) {
        int rank = g.rank();
        int[] values = new int[5 * rank];
        for (int d = 0; d < rank; d++) {
            values[5 * d] = g.inSpatial()[d];
            values[5 * d + 1] = g.outSpatial()[d];
            values[5 * d + 2] = g.window()[d];
            values[5 * d + 3] = g.strides()[d];
            values[5 * d + 4] = g.padLo()[d];
        }
        return values;
    }

    /** Whether the backward pass needs {@link #enqueueSelect}'s choices (MAX and MIN). */
    public boolean selects() {
        return select != null;
    }

    /** Enqueues the forward pass of {@code batch} elements of {@code input} into {@code output}. */
    public void enqueueForward(OpenClContext context, int batch, ClBuffer input, ClBuffer output) {
        // Sizes that divide element numbers are at least 1; a zero-sized operand launches nothing.
        forward.launch(context.queue(), global(batch, outPixels), new long[] {workGroupSize}, batch, channels,
                inPixels, Math.max(1, outPixels), windowSize, input, output, dims);
    }

    /** Enqueues the choice of each window's gradient element ({@code int} per output element) into {@code picks}. */
    public void enqueueSelect(OpenClContext context, int batch, ClBuffer input, ClBuffer picks) {
        if (select == null) {
            throw new IllegalStateException("an " + op + " pooling chooses no element: its gradient goes to all");
        }
        select.launch(context.queue(), global(batch, outPixels), new long[] {workGroupSize}, batch, channels,
                inPixels, Math.max(1, outPixels), input, picks, dims);
    }

    /**
     * Enqueues the input gradient of {@code batch} elements from {@code outputGradient} and, for MAX and MIN,
     * {@link #enqueueSelect}'s {@code picks} (any buffer for AVG).
     */
    public void enqueueBackward(OpenClContext context, int batch, ClBuffer outputGradient, ClBuffer picks,
            ClBuffer inputGradient) {
        backward.launch(context.queue(), global(batch, inPixels), new long[] {workGroupSize}, batch, channels,
                Math.max(1, inPixels), outPixels, windowSize, outputGradient, picks, inputGradient, dims);
    }

    /** One work-item per element: {@code pixels} pixels of {@code channels} per batch element. */
    private long[] global(int batch, int pixels) {
        long elements = (long) batch * pixels * channels;
        return new long[] {Math.max(1, (elements + workGroupSize - 1) / workGroupSize) * workGroupSize};
    }

    @Override
    public void close() {
        forward.close();
        if (select != null) {
            select.close();
        }
        backward.close();
        dims.close();
    }

    private static int product(int[] sizes) {
        int p = 1;
        for (int s : sizes) {
            p *= s;
        }
        return p;
    }
}
