package org.convcl.opencl.internal.plan;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.convcl.DType;
import org.convcl.EdgePadding;
import org.convcl.opencl.internal.runtime.BuildOptions;
import org.convcl.opencl.internal.runtime.ClBuffer;
import org.convcl.opencl.internal.runtime.ClKernel;
import org.convcl.opencl.internal.runtime.OpenClContext;

/**
 * One of the two {@link EdgePadding} maps ({@code kernels/edge_padding.cl}) compiled for one padding (batch
 * aside) on one device: the pad gather, or the fold gather with or without a bias, with its uploaded tables; its
 * values of one storage type ({@code kernels/storage.cl}).
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
    private final EpilogueShape epilogue;

    private EdgePaddingPlan(ClKernel kernel, List<ClBuffer> tables, boolean fold, int channels, int sourcePixels,
            int paddedPixels, int workGroupSize, EpilogueShape epilogue) {
        this.epilogue = epilogue;
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

    /** As {@link #key(EdgePadding, boolean, boolean)} with the values' storage type (float32 keys as before). */
    public static String key(EdgePadding e, boolean fold, boolean hasBias, DType storage) {
        return key(e, fold, hasBias) + (storage == DType.FLOAT32 ? "" : " storage=" + storage.cliName());
    }

    /** As {@link #key(EdgePadding, boolean, boolean)} for a fold whose store applies {@code epilogue}. */
    public static String foldKey(EdgePadding e, boolean hasBias, EpilogueShape epilogue) {
        return foldKey(e, hasBias, epilogue, DType.FLOAT32);
    }

    /** As {@link #foldKey(EdgePadding, boolean, EpilogueShape)} with the values' storage type. */
    public static String foldKey(EdgePadding e, boolean hasBias, EpilogueShape epilogue, DType storage) {
        String plain = key(e, true, hasBias, storage);
        return epilogue.isNone() ? plain : plain + " epilogue=" + epilogue;
    }

    /** The pad gather for {@code e}. */
    public static EdgePaddingPlan pad(OpenClContext context, EdgePadding e) {
        return pad(context, e, DType.FLOAT32);
    }

    /** The pad gather for {@code e} on values of {@code storage}. */
    public static EdgePaddingPlan pad(OpenClContext context, EdgePadding e, DType storage) {
        GradientTables.Tables copies = GradientTables.padCopies(e);
        return create(context, e, false, false, EpilogueShape.NONE, storage, List.of(copies.values(),
                copies.dims()));
    }

    /** The fold gather for {@code e}, adding a bias when {@code hasBias}. */
    public static EdgePaddingPlan fold(OpenClContext context, EdgePadding e, boolean hasBias) {
        return fold(context, e, hasBias, EpilogueShape.NONE);
    }

    /**
     * The fold gather for {@code e}, adding a bias when {@code hasBias}, its store applying {@code epilogue}: the
     * fold is the last operation of a CIRCULAR ConvTranspose, so its epilogue is fused here.
     */
    public static EdgePaddingPlan fold(OpenClContext context, EdgePadding e, boolean hasBias, EpilogueShape epilogue) {
        return fold(context, e, hasBias, epilogue, DType.FLOAT32);
    }

    /** As {@link #fold(OpenClContext, EdgePadding, boolean, EpilogueShape)} on values of {@code storage}. */
    public static EdgePaddingPlan fold(OpenClContext context, EdgePadding e, boolean hasBias, EpilogueShape epilogue,
            DType storage) {
        GradientTables.FoldTables inverse = GradientTables.foldCopies(e);
        return create(context, e, true, hasBias, epilogue, storage, List.of(inverse.starts(), inverse.copies(),
                inverse.dims()));
    }

    private static EdgePaddingPlan create(OpenClContext context, EdgePadding e, boolean fold, boolean hasBias,
            EpilogueShape epilogue, DType storage, List<int[]> hostTables) {
        int sourcePixels = product(e.sourceSpatial());
        int paddedPixels = product(e.paddedSpatial());
        // Sizes are run-time arguments: one program per rank (and bias setting) serves every padding.
        BuildOptions options = StorageOption.define(new BuildOptions().define("RANK", e.rank())
                .define("HAS_BIAS", hasBias), storage);
        List<ClBuffer> buffers = new ArrayList<>();
        ClKernel kernel = null;
        try {
            for (int[] table : hostTables) {
                ClBuffer buffer = context.allocate(4L * table.length, "edge-padding table");
                buffers.add(buffer);
                context.write(buffer, table);
            }
            kernel = context.kernel(context.program(epilogue.sources(List.of(StorageOption.SOURCE, SOURCE)),
                    epilogue.options(options.toString())), fold ? "edge_fold" : "edge_pad");
            int workGroupSize = (int) Math.max(1, Math.min(64, kernel.maxWorkGroupSize(context.device().handle())));
            return new EdgePaddingPlan(kernel, buffers, fold, e.channels(), sourcePixels, paddedPixels, workGroupSize,
                    epilogue);
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
        enqueueFold(context, batch, padded, bias, source, EpilogueBuffers.NONE);
    }

    /**
     * As {@link #enqueueFold(OpenClContext, int, ClBuffer, ClBuffer, ClBuffer)}, the store applying the plan's
     * epilogue with {@code epilogue}'s operands (exactly those of the plan's shape; the residual from its element 0).
     */
    public void enqueueFold(OpenClContext context, int batch, ClBuffer padded, ClBuffer bias, ClBuffer source,
            EpilogueBuffers epilogue) {
        if (!fold) {
            throw new IllegalStateException("a pad plan cannot fold");
        }
        this.epilogue.check(epilogue, "the fold of " + this.epilogue);
        if (epilogue.residualOffset() != 0) {
            throw new IllegalArgumentException("epilogue: residual offset " + epilogue.residualOffset() + " given to "
                    + "a fold, which reads the residual from its element 0");
        }
        // An absent operand is bound to the source, which the kernel never reads there.
        Object[] operands = epilogue.arguments(source);
        kernel.launch(context.queue(), global(batch, sourcePixels), new long[] {workGroupSize}, batch, channels,
                Math.max(1, sourcePixels), Math.max(1, paddedPixels), padded, bias, source, tables.get(0),
                tables.get(1), tables.get(2), operands[0], operands[1], operands[2]);
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
