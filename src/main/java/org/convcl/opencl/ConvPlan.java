package org.convcl.opencl;

import java.util.ArrayList;
import java.util.List;
import org.convcl.ConvGeometry;

/**
 * A convolution compiled for one geometry (batch aside) and one {@link KernelConfig} on one device: the
 * specialised program's kernel object, its launch shape, and for the general kernel its uploaded
 * source-index tables. Built once by {@link OpenClBackend#plan} and reused by every call of that shape;
 * the batch is a run-time argument, so every batch size (and every chunk of a split batch) shares it.
 *
 * <p>Thread-safe: launches are serialised on the kernel object only for the duration of the enqueue.
 * Closed with its backend; a closed plan fails loudly.
 */
public final class ConvPlan implements AutoCloseable {
    static final String GEMM_SOURCE = "conv_gemm.cl";
    static final String GENERAL_SOURCE = "conv_general.cl";

    private final PlanKey key;
    private final String shapeSignature;
    private final KernelConfig config;
    private final boolean hasBias;
    private final String options;
    private final ClKernel kernel;
    private final List<ClBuffer> tables;
    private final int outPixels;
    private final int outChannels;
    private final int groups;
    private final int outChannelsPerGroup;

    private ConvPlan(PlanKey key, ConvGeometry g, KernelConfig config, boolean hasBias, String options,
            ClKernel kernel, List<ClBuffer> tables) {
        this.key = key;
        this.shapeSignature = PlanKey.shapeSignature(g);
        this.config = config;
        this.hasBias = hasBias;
        this.options = options;
        this.kernel = kernel;
        this.tables = List.copyOf(tables);
        this.outPixels = g.outputSpatialSize();
        this.outChannels = g.outChannels();
        this.groups = g.groups();
        this.outChannelsPerGroup = g.outChannelsPerGroup();
    }

    /** Compiles (or fetches from the program cache) and prepares a plan; a geometry with no output has none. */
    static ConvPlan create(OpenClContext context, ConvGeometry g, boolean hasBias, KernelConfig config) {
        if (g.outputSpatialSize() == 0 || g.outChannels() == 0) {
            throw new IllegalArgumentException("geometry " + g + " has an empty output; there is nothing to plan");
        }
        PlanKey key = PlanKey.of(g, hasBias, config);
        if (config instanceof KernelConfig.Gemm gemm) {
            return createGemm(context, g, hasBias, gemm.tiling(), key, config);
        }
        return createGeneral(context, g, hasBias, (KernelConfig.General) config, key);
    }

    private static ConvPlan createGemm(OpenClContext context, ConvGeometry g, boolean hasBias, Tiling tiling,
            PlanKey key, KernelConfig config) {
        int rank = g.rank();
        if (rank > 3) {
            throw new IllegalArgumentException("kernel config " + config + ": the GEMM kernel handles ranks 1 to 3, got "
                    + "rank " + rank + "; use KernelConfig.General");
        }
        OpenClDevice device = context.device();
        if (tiling.workGroupSize() > device.maxWorkGroupSize()) {
            throw new IllegalArgumentException("tiling " + tiling + ": needs work-groups of " + tiling.workGroupSize()
                    + " items but " + device.describe() + " allows " + device.maxWorkGroupSize());
        }
        if (tiling.localMemoryBytes() > device.localMemoryBytes()) {
            throw new IllegalArgumentException("tiling " + tiling + ": needs " + tiling.localMemoryBytes()
                    + " bytes of local memory but " + device.describe() + " has " + device.localMemoryBytes());
        }
        long columnGroups = (long) DefaultConfigs.ceilDiv(g.outChannelsPerGroup(), tiling.tileN()) * g.groups();
        if (columnGroups > DefaultConfigs.MAX_GROUPS_DIM1) {
            throw new IllegalArgumentException("tiling " + tiling + ": " + columnGroups + " column work-groups exceed "
                    + DefaultConfigs.MAX_GROUPS_DIM1 + "; use a larger tileN or KernelConfig.General");
        }
        // Ranks 1 and 2 run as rank 3 with leading dims of size 1: index d of the padded arrays.
        int offset = 3 - rank;
        int[] in = padded(g.inSpatial(), offset, 1);
        int[] k = padded(g.kernelSpatial(), offset, 1);
        int[] out = padded(g.outSpatial(), offset, 1);
        int[] stride = padded(g.strides(), offset, 1);
        int[] inputDilation = padded(g.inputDilation(), offset, 1);
        int[] kernelDilation = padded(g.kernelDilation(), offset, 1);
        int[] padLo = padded(g.padLo(), offset, 0);
        String[] dims = {"D", "H", "W"};
        BuildOptions options = new BuildOptions()
                .define("TILE_M", tiling.tileM()).define("TILE_N", tiling.tileN()).define("TILE_K", tiling.tileK())
                .define("WPT_M", tiling.workPerItemM()).define("WPT_N", tiling.workPerItemN());
        for (int d = 0; d < 3; d++) {
            options.define("IN_" + dims[d], in[d]).define("K_" + dims[d], k[d]).define("OUT_" + dims[d], out[d])
                    .define("STRIDE_" + dims[d], stride[d]).define("IDIL_" + dims[d], inputDilation[d])
                    .define("KDIL_" + dims[d], kernelDilation[d]).define("PAD_" + dims[d], padLo[d]);
        }
        options.define("CIN", g.inChannels()).define("COUT", g.outChannels()).define("GROUPS", g.groups())
                .define("EDGE_MODE", g.edgeMode().ordinal()).define("HAS_BIAS", hasBias);
        String optionText = options.toString();
        ClProgram program = context.program(GEMM_SOURCE, optionText);
        ClKernel kernel = context.kernel(program, "conv_gemm");
        long kernelLimit = kernel.maxWorkGroupSize(device.handle());
        if (tiling.workGroupSize() > kernelLimit) {
            kernel.close();
            throw new IllegalArgumentException("tiling " + tiling + ": the compiled kernel runs at most " + kernelLimit
                    + " work-items per group on " + device.describe() + ", fewer than the " + tiling.workGroupSize()
                    + " it needs");
        }
        return new ConvPlan(key, g, config, hasBias, optionText, kernel, List.of());
    }

    private static ConvPlan createGeneral(OpenClContext context, ConvGeometry g, boolean hasBias,
            KernelConfig.General config, PlanKey key) {
        int rank = g.rank();
        BuildOptions options = new BuildOptions().define("RANK", rank).define("CIN", g.inChannels())
                .define("COUT", g.outChannels()).define("GROUPS", g.groups()).define("TAPS", g.kernelTaps())
                .define("IN_PIXELS", g.inputSpatialSize()).define("OUT_PIXELS", g.outputSpatialSize())
                .define("HAS_BIAS", hasBias);
        String optionText = options.toString();
        // One source-index table per dim, concatenated, and four ints per dim describing them.
        int[] outSpatial = g.outSpatial();
        int[] kernelSpatial = g.kernelSpatial();
        int[] inSpatial = g.inSpatial();
        List<int[]> perDim = new ArrayList<>();
        int total = 0;
        for (int d = 0; d < rank; d++) {
            int[] table = g.sourceIndexTable(d);
            perDim.add(table);
            total += table.length;
        }
        int[] concatenated = new int[total];
        int[] dims = new int[4 * rank];
        int position = 0;
        int inputStride = 1;
        for (int d = rank - 1; d >= 0; d--) {
            dims[4 * d + 2] = inputStride;
            inputStride *= inSpatial[d];
        }
        for (int d = 0; d < rank; d++) {
            int[] table = perDim.get(d);
            System.arraycopy(table, 0, concatenated, position, table.length);
            dims[4 * d] = outSpatial[d];
            dims[4 * d + 1] = kernelSpatial[d];
            dims[4 * d + 3] = position;
            position += table.length;
        }
        List<ClBuffer> buffers = new ArrayList<>();
        ClKernel kernel = null;
        try {
            ClBuffer tableBuffer = context.allocate(4L * concatenated.length, "source-index tables");
            buffers.add(tableBuffer);
            context.write(tableBuffer, concatenated);
            ClBuffer dimsBuffer = context.allocate(4L * dims.length, "table layout");
            buffers.add(dimsBuffer);
            context.write(dimsBuffer, dims);
            ClProgram program = context.program(GENERAL_SOURCE, optionText);
            kernel = context.kernel(program, "conv_general");
            long kernelLimit = kernel.maxWorkGroupSize(context.device().handle());
            if (config.workGroupSize() > kernelLimit) {
                throw new IllegalArgumentException("kernel config " + config + ": the compiled kernel runs at most "
                        + kernelLimit + " work-items per group on " + context.device().describe());
            }
            return new ConvPlan(key, g, config, hasBias, optionText, kernel, buffers);
        } catch (RuntimeException e) {
            if (kernel != null) {
                kernel.close();
            }
            buffers.forEach(ClBuffer::close);
            throw e;
        }
    }

    private static int[] padded(int[] values, int offset, int fill) {
        int[] result = new int[3];
        java.util.Arrays.fill(result, fill);
        System.arraycopy(values, 0, result, offset, values.length);
        return result;
    }

    /**
     * Enqueues one run over {@code batch} batch elements: input from element {@code inputOffset} of
     * {@code input}, output to element {@code outputOffset} of {@code output}. Returns without waiting.
     */
    void enqueue(OpenClContext context, int batch, ClBuffer input, int inputOffset, ClBuffer weights, ClBuffer bias,
            ClBuffer output, int outputOffset) {
        if (batch == 0) {
            return;
        }
        if (config instanceof KernelConfig.Gemm gemm) {
            Tiling t = gemm.tiling();
            long rows = (long) batch * outPixels;
            long rowGroups = (rows + t.tileM() - 1) / t.tileM();
            long columnGroups = (long) DefaultConfigs.ceilDiv(outChannelsPerGroup, t.tileN()) * groups;
            long[] global = {rowGroups * t.itemsM(), columnGroups * t.itemsN()};
            long[] local = {t.itemsM(), t.itemsN()};
            kernel.launch(context.queue(), global, local, batch, input, inputOffset, weights, bias, output,
                    outputOffset);
        } else {
            int workGroup = ((KernelConfig.General) config).workGroupSize();
            long elements = (long) batch * outPixels * outChannels;
            long global = (elements + workGroup - 1) / workGroup * workGroup;
            kernel.launch(context.queue(), new long[] {global}, new long[] {workGroup}, batch, input, inputOffset,
                    weights, bias, output, outputOffset, tables.get(0), tables.get(1));
        }
    }

    /** Whether this plan computes {@code g} (any batch). */
    public boolean accepts(ConvGeometry g, boolean withBias) {
        return withBias == hasBias && shapeSignature.equals(PlanKey.shapeSignature(g));
    }

    public KernelConfig config() {
        return config;
    }

    /** The {@code -D} options the program was built with. */
    public String buildOptions() {
        return options;
    }

    PlanKey key() {
        return key;
    }

    public boolean isClosed() {
        return kernel.isClosed();
    }

    @Override
    public void close() {
        kernel.close();
        tables.forEach(ClBuffer::close);
    }

    @Override
    public String toString() {
        return "ConvPlan{" + config + ", " + shapeSignature + ", bias=" + hasBias + "}";
    }
}
