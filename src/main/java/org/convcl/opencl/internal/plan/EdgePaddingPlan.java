package org.convcl.opencl.internal.plan;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.convcl.EdgePadding;
import org.convcl.opencl.internal.runtime.BuildOptions;
import org.convcl.opencl.internal.runtime.ClBuffer;
import org.convcl.opencl.internal.runtime.ClKernel;
import org.convcl.opencl.internal.runtime.OpenClContext;

/**
 * One of the two {@link EdgePadding} maps ({@code kernels/edge_padding.cl}) compiled for one padding (batch
 * aside) on one device: the pad gather, or the fold gather with or without a bias, with its uploaded tables.
 * Built once per shape by {@code GradientOps} and reused; closed with its backend.
 */
public final class EdgePaddingPlan implements AutoCloseable {
    static final String SOURCE = "edge_padding.cl";

    private final ClKernel kernel;
    private final List<ClBuffer> tables;
    private final boolean fold;
    private final int channels;
    private final int sourcePixels;
    private final int paddedPixels;
    private final int workGroupSize;

    private EdgePaddingPlan(ClKernel kernel, List<ClBuffer> tables, boolean fold, int channels, int sourcePixels,
            int paddedPixels, int workGroupSize) {
        this.kernel = kernel;
        this.tables = List.copyOf(tables);
        this.fold = fold;
        this.channels = channels;
        this.sourcePixels = sourcePixels;
        this.paddedPixels = paddedPixels;
        this.workGroupSize = workGroupSize;
    }

    /** What identifies a plan: the padding without its batch, the direction, and for a fold the bias. */
    public static String key(EdgePadding e, boolean fold, boolean hasBias) {
        return (fold ? "fold bias=" + hasBias : "pad") + " source=" + Arrays.toString(e.sourceSpatial()) + " padded="
                + Arrays.toString(e.paddedSpatial()) + " lo=" + Arrays.toString(e.padLo()) + " mode=" + e.mode()
                + " channels=" + e.channels();
    }

    /** The pad gather for {@code e}. */
    public static EdgePaddingPlan pad(OpenClContext context, EdgePadding e) {
        GradientTables.Tables copies = GradientTables.padCopies(e);
        return create(context, e, false, false, List.of(copies.values(), copies.dims()));
    }

    /** The fold gather for {@code e}, adding a bias when {@code hasBias}. */
    public static EdgePaddingPlan fold(OpenClContext context, EdgePadding e, boolean hasBias) {
        GradientTables.FoldTables inverse = GradientTables.foldCopies(e);
        return create(context, e, true, hasBias, List.of(inverse.starts(), inverse.copies(), inverse.dims()));
    }

    private static EdgePaddingPlan create(OpenClContext context, EdgePadding e, boolean fold, boolean hasBias,
            List<int[]> hostTables) {
        int sourcePixels = product(e.sourceSpatial());
        int paddedPixels = product(e.paddedSpatial());
        // Sizes are run-time arguments: one program per rank (and bias setting) serves every padding.
        BuildOptions options = new BuildOptions().define("RANK", e.rank()).define("HAS_BIAS", hasBias);
        List<ClBuffer> buffers = new ArrayList<>();
        ClKernel kernel = null;
        try {
            for (int[] table : hostTables) {
                ClBuffer buffer = context.allocate(4L * table.length, "edge-padding table");
                buffers.add(buffer);
                context.write(buffer, table);
            }
            kernel = context.kernel(context.program(SOURCE, options.toString()), fold ? "edge_fold" : "edge_pad");
            int workGroupSize = (int) Math.max(1, Math.min(64, kernel.maxWorkGroupSize(context.device().handle())));
            return new EdgePaddingPlan(kernel, buffers, fold, e.channels(), sourcePixels, paddedPixels, workGroupSize);
        } catch (RuntimeException failure) {
            if (kernel != null) {
                kernel.close();
            }
            buffers.forEach(ClBuffer::close);
            throw failure;
        }
    }

    /** Enqueues the pad of {@code batch} elements of {@code source} into {@code padded}. */
    public void enqueuePad(OpenClContext context, int batch, ClBuffer source, ClBuffer padded) {
        if (fold) {
            throw new IllegalStateException("a fold plan cannot pad");
        }
        kernel.launch(context.queue(), global(batch, paddedPixels), new long[] {workGroupSize}, batch, channels,
                Math.max(1, sourcePixels), Math.max(1, paddedPixels), source, padded, tables.get(0), tables.get(1));
    }

    /** Enqueues the fold of {@code batch} elements of {@code padded} into {@code source}; {@code bias} as planned. */
    public void enqueueFold(OpenClContext context, int batch, ClBuffer padded, ClBuffer bias, ClBuffer source) {
        if (!fold) {
            throw new IllegalStateException("a pad plan cannot fold");
        }
        kernel.launch(context.queue(), global(batch, sourcePixels), new long[] {workGroupSize}, batch, channels,
                Math.max(1, sourcePixels), Math.max(1, paddedPixels), padded, bias, source, tables.get(0),
                tables.get(1), tables.get(2));
    }

    /** One work-item per output element: {@code pixels} pixels of {@code channels} per batch element. */
    private long[] global(int batch, int pixels) {
        long elements = (long) batch * pixels * channels;
        return new long[] {(elements + workGroupSize - 1) / workGroupSize * workGroupSize};
    }

    @Override
    public void close() {
        kernel.close();
        tables.forEach(ClBuffer::close);
    }

    private static int product(int[] sizes) {
        int p = 1;
        for (int s : sizes) {
            p *= s;
        }
        return p;
    }
}
