package org.convcl.opencl.internal.plan;

import java.util.List;
import org.convcl.ConvGeometry;
import org.convcl.Precision;
import org.convcl.backend.internal.IntMath;
import org.convcl.opencl.internal.runtime.BuildOptions;
import org.convcl.opencl.internal.runtime.ClBuffer;
import org.convcl.opencl.internal.runtime.ClKernel;
import org.convcl.opencl.internal.runtime.NativeObject;
import org.convcl.opencl.internal.runtime.OpenClContext;

/**
 * The first pass of the kernel gradient ({@code kernels/kernel_gradient.cl}) compiled for one geometry
 * (batch aside) on one device: the specialised kernel, its blocking and the uploaded source-index tables.
 * Built once per shape by {@code GradientOps} and reused by every call; the batch, and so the number of rows
 * reduced and how they are split, is a run-time argument. Closed with its backend.
 */
public final class KernelGradientPlan implements AutoCloseable {
    static final String SOURCE = "kernel_gradient.cl";
    /** The most work-groups some drivers (NVIDIA's among them) accept along a launch's second dimension. */
    static final long MAX_COLUMN_BLOCKS = 65535;

    /**
     * The kernel's blocking: {@code tileM} rows of the reduction per step (also the length of each plain
     * float block before a compensated add), a {@code tileK x tileN} block of dW per work-group, and a
     * {@code workPerItemK x workPerItemN} register block per work-item.
     */
    record Blocking(int tileM, int tileK, int tileN, int workPerItemK, int workPerItemN) {
        int itemsK() {
            return tileK / workPerItemK;
        }

        int itemsN() {
            return tileN / workPerItemN;
        }

        int workGroupSize() {
            return itemsK() * itemsN();
        }

        @Override
        public String toString() {
            return tileM + "x" + tileK + "x" + tileN + "/" + workPerItemK + "x" + workPerItemN;
        }
    }

    private final ClKernel kernel;
    private final ClBuffer tables;
    private final ClBuffer dims;
    private final Blocking blocking;
    private final int kernelSize;
    /** The kernel's run-time size arguments. */
    private final int inChannels;
    private final int outChannels;
    private final int groups;
    private final int taps;
    private final int inPixels;
    private final int outPixels;
    /** Work-groups along dW's rows, and along its columns (every group's column blocks). */
    private final int rowBlocks;
    private final int columnBlocks;

    private KernelGradientPlan(ClKernel kernel, ClBuffer tables, ClBuffer dims, Blocking blocking, ConvGeometry g) {
        this.kernel = kernel;
        this.tables = tables;
        this.dims = dims;
        this.blocking = blocking;
        this.kernelSize = Math.multiplyExact(g.kernelTaps() * g.inChannelsPerGroup(), g.outChannels());
        this.inChannels = g.inChannels();
        this.outChannels = g.outChannels();
        this.groups = g.groups();
        this.taps = g.kernelTaps();
        this.inPixels = g.inputSpatialSize();
        this.outPixels = g.outputSpatialSize();
        this.rowBlocks = IntMath.ceilDiv(g.kernelTaps() * g.inChannelsPerGroup(), blocking.tileK());
        this.columnBlocks = Math.multiplyExact(IntMath.ceilDiv(g.outChannelsPerGroup(), blocking.tileN()), g.groups());
    }

    /**
     * Compiles (or fetches from the program cache) the kernel for {@code g} and uploads its tables. The blocking
     * starts from the device's work-group limit; where the compiled kernel's own limit is lower (rusticl on
     * llvmpipe compiles for fewer items than the device allows), it is blocked again for that limit, so the
     * kernel gradient runs on every conformant device.
     */
    public static KernelGradientPlan create(OpenClContext context, ConvGeometry g) {
        GradientTables.Tables sources = GradientTables.sources(g);
        ClBuffer tableBuffer = null;
        ClBuffer dimsBuffer = null;
        ClKernel kernel = null;
        try {
            tableBuffer = context.allocate(4L * sources.values().length, "kernel-gradient source tables");
            context.write(tableBuffer, sources.values());
            dimsBuffer = context.allocate(4L * sources.dims().length, "kernel-gradient table layout");
            context.write(dimsBuffer, sources.dims());
            long limit = context.device().maxWorkGroupSize();
            while (true) {
                Blocking blocking = blocking(g, limit);
                kernel = compile(context, g, blocking);
                long kernelLimit = kernel.maxWorkGroupSize(context.device().handle());
                if (blocking.workGroupSize() <= kernelLimit) {
                    return new KernelGradientPlan(kernel, tableBuffer, dimsBuffer, blocking, g);
                }
                if (kernelLimit >= limit || blocking.workGroupSize() == 1) {
                    throw new IllegalArgumentException("kernel-gradient blocking " + blocking + ": the compiled "
                            + "kernel runs at most " + kernelLimit + " work-items per group on "
                            + context.device().describe() + ", fewer than the " + blocking.workGroupSize()
                            + " it needs");
                }
                kernel.close();
                kernel = null;
                limit = kernelLimit;
            }
        } catch (RuntimeException e) {
            for (NativeObject object : new NativeObject[] {kernel, dimsBuffer, tableBuffer}) {
                if (object != null) {
                    object.close();
                }
            }
            throw e;
        }
    }

    /** The kernel object of one blocking (sizes are run-time arguments: one program per rank and blocking). */
    private static ClKernel compile(OpenClContext context, ConvGeometry g, Blocking blocking) {
        long columnBlocks = (long) IntMath.ceilDiv(g.outChannelsPerGroup(), blocking.tileN()) * g.groups();
        if (columnBlocks > MAX_COLUMN_BLOCKS) {
            throw new IllegalArgumentException("groups: " + g.groups() + " groups of " + g.outChannelsPerGroup()
                    + " output channels need " + columnBlocks + " kernel-gradient work-groups along one launch "
                    + "dimension; OpenCL drivers accept at most " + MAX_COLUMN_BLOCKS);
        }
        BuildOptions options = new BuildOptions().define("RANK", g.rank())
                .define("TILE_M", blocking.tileM()).define("TILE_K", blocking.tileK())
                .define("TILE_N", blocking.tileN()).define("WPT_K", blocking.workPerItemK())
                .define("WPT_N", blocking.workPerItemN());
        if (g.productPrecision() == Precision.TF32) {
            options.define("TF32", 1);
        }
        StorageOption.define(options, g.storage());
        return context.kernel(context.program(List.of(ConvPlan.TF32_SOURCE, StorageOption.SOURCE, SOURCE),
                options.toString()),
                "kernel_gradient");
    }

    /**
     * A blocking sized to the problem, from a few fixed shapes so that few programs are ever compiled: dW
     * blocks of 8 or 32 rows by 8 or 32 columns (the smaller where the group's rows or columns fit in 8),
     * 4 x 4 register blocks, halved to the device's work-group limit where needed.
     */
    static Blocking blocking(ConvGeometry g, long maxWorkGroup) {
        int tileK = g.kernelTaps() * g.inChannelsPerGroup() <= 8 ? 8 : 32;
        int tileN = g.outChannelsPerGroup() <= 8 ? 8 : 32;
        int workK = 4;
        int workN = 4;
        while ((long) (tileK / workK) * (tileN / workN) > Math.max(1, maxWorkGroup)) {
            if (tileK / workK >= tileN / workN && tileK > workK) {
                tileK /= 2;
            } else if (tileN > workN) {
                tileN /= 2;
            } else {
                break;
            }
        }
        return new Blocking(16, tileK, tileN, workK, workN);
    }

    /** Rows reduced per kernel step: a split of the reduction should be a multiple of this. */
    public int rowsPerStep() {
        return blocking.tileM();
    }

    /** Work-groups one split occupies: the blocks of dW. */
    public long blockGroups() {
        return (long) rowBlocks * columnBlocks;
    }

    /** Elements of dW (one split of the partials). */
    public int kernelSize() {
        return kernelSize;
    }

    /** Rows of the reduction for {@code batch} batch elements. */
    public long rows(int batch) {
        return (long) batch * outPixels;
    }

    /**
     * Enqueues the first pass over {@code rows} rows in {@code splits} ranges of {@code rowsPerSplit}: split s
     * of {@code partials} ({@link #kernelSize()} floats each) receives the sum over its range. Returns
     * without waiting.
     */
    public void enqueue(OpenClContext context, int rows, ReductionSplit split, ClBuffer input, ClBuffer outputGradient,
            ClBuffer partials) {
        long[] global = {(long) rowBlocks * blocking.itemsK(), (long) columnBlocks * blocking.itemsN(),
                split.splits()};
        long[] local = {blocking.itemsK(), blocking.itemsN(), 1};
        // out_pixels only divides row numbers (there are none when it is 0): pass at least 1.
        kernel.launch(context.queue(), global, local, rows, split.rowsPerSplit(), inChannels, outChannels, groups,
                taps, inPixels, Math.max(1, outPixels), input, outputGradient, partials, tables, dims);
    }

    @Override
    public void close() {
        kernel.close();
        tables.close();
        dims.close();
    }

    @Override
    public String toString() {
        return "KernelGradientPlan{" + blocking + "}";
    }
}
