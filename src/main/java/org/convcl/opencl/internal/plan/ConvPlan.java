package org.convcl.opencl.internal.plan;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;
import org.convcl.ConvGeometry;
import org.convcl.Precision;
import org.convcl.opencl.OpenClBackend;
import org.convcl.opencl.device.OpenClDevice;
import org.convcl.opencl.internal.runtime.BuildOptions;
import org.convcl.opencl.internal.runtime.BufferPool;
import org.convcl.opencl.internal.runtime.ClBuffer;
import org.convcl.opencl.internal.runtime.ClKernel;
import org.convcl.opencl.internal.runtime.ClProgram;
import org.convcl.opencl.internal.runtime.ComputeCapability;
import org.convcl.opencl.internal.runtime.OpenClContext;

/**
 * A convolution compiled for one geometry (batch aside) and one {@link KernelConfig} on one device: the
 * specialised program's kernel object (implicit GEMM, {@link GemmLaunch}; depthwise, {@link DepthwiseLaunch};
 * or the any-rank kernel), its launch shape, and for the any-rank kernel its uploaded source-index tables. Built once by {@link OpenClBackend#plan} and reused by every call of that shape;
 * the batch is a run-time argument, so every batch size (and every chunk of a split batch) shares it.
 *
 * <p>Thread-safe: launches are serialised on the kernel object only for the duration of the enqueue.
 * Closed with its backend; a closed plan fails loudly.
 */
public final class ConvPlan implements AutoCloseable {
    /** Geometry defaults and the source-index rule that the GEMM and depthwise kernels share. */
    public static final String GEOMETRY_SOURCE = "conv_geometry.cl";
    /** The files of each kernel's program, in the order they are compiled: shared code first. */
    /** TF32 operand rounding, compiled in front of the kernels whose products it rounds. */
    public static final String TF32_SOURCE = "tf32.cl";
    public static final List<String> GEMM_SOURCES = List.of(GEOMETRY_SOURCE, TF32_SOURCE, "conv_gemm.cl");
    static final List<String> DEPTHWISE_SOURCES = List.of(GEOMETRY_SOURCE, "conv_depthwise.cl");
    static final List<String> GENERAL_SOURCES = List.of(TF32_SOURCE, "conv_general.cl");

    /** Launch shape: global sizes for a batch, and the local sizes. */
    private record Launch(IntFunction<long[]> global, long[] local) {
    }

    private final PlanKey key;
    private final String shapeSignature;
    private final KernelConfig config;
    private final boolean hasBias;
    private final String options;
    private final ClKernel kernel;
    private final List<ClBuffer> tables;
    private final Launch launch;
    private final int inputAlignment;
    private final int outputAlignment;
    /**
     * For a GEMM plan with input dilation: conv_gemm.cl's phase_bias kernel, which computes the per-phase bias
     * rows that the phased GEMM adds (the bias plus the products with the dilation zeros it skips, NaN where
     * a weight over one is not finite); and how many floats they take. Null and 0 otherwise.
     */
    private final ClKernel phaseBias;
    private final long phaseBiasLength;

    private ConvPlan(PlanKey key, ConvGeometry g, KernelConfig config, boolean hasBias, String options,
            ClKernel kernel, List<ClBuffer> tables, Launch launch, int inputAlignment, int outputAlignment) {
        this(key, g, config, hasBias, options, kernel, tables, launch, inputAlignment, outputAlignment, null, 0);
    }

    private ConvPlan(PlanKey key, ConvGeometry g, KernelConfig config, boolean hasBias, String options,
            ClKernel kernel, List<ClBuffer> tables, Launch launch, int inputAlignment, int outputAlignment,
            ClKernel phaseBias, long phaseBiasLength) {
        this.key = key;
        this.shapeSignature = PlanKey.shapeSignature(g);
        this.config = config;
        this.hasBias = hasBias;
        this.options = options;
        this.kernel = kernel;
        this.tables = List.copyOf(tables);
        this.launch = launch;
        this.inputAlignment = inputAlignment;
        this.outputAlignment = outputAlignment;
        this.phaseBias = phaseBias;
        this.phaseBiasLength = phaseBiasLength;
    }

    /** Compiles (or fetches from the program cache) and prepares a plan; a geometry with no output has none. */
    public static ConvPlan create(OpenClContext context, ConvGeometry g, boolean hasBias, KernelConfig config) {
        if (g.outputSpatialSize() == 0 || g.outChannels() == 0) {
            throw new IllegalArgumentException("geometry " + g + " has an empty output; there is nothing to plan");
        }
        PlanKey key = PlanKey.of(g, hasBias, config);
        if (config instanceof KernelConfig.Gemm gemm) {
            return createGemm(context, g, hasBias, gemm, key);
        }
        if (config instanceof KernelConfig.Depthwise depthwise) {
            return createDepthwise(context, g, hasBias, depthwise, key);
        }
        return createGeneral(context, g, hasBias, (KernelConfig.General) config, key);
    }

    private static ConvPlan createGemm(OpenClContext context, ConvGeometry g, boolean hasBias, KernelConfig.Gemm config,
            PlanKey key) {
        OpenClDevice device = context.device();
        GemmLaunch gemm = GemmLaunch.of(g, hasBias, config.tiling(), ComputeCapability.hasTf32TensorCores(device));
        Tiling tiling = gemm.tiling();
        if (tiling.workGroupSize() > device.maxWorkGroupSize()) {
            throw new IllegalArgumentException("tiling " + tiling + ": needs work-groups of " + tiling.workGroupSize()
                    + " items but " + device.describe() + " allows " + device.maxWorkGroupSize());
        }
        if (gemm.localMemoryBytes() > device.localMemoryBytes()) {
            throw new IllegalArgumentException("tiling " + tiling + ": needs " + gemm.localMemoryBytes()
                    + " bytes of local memory but " + device.describe() + " has " + device.localMemoryBytes());
        }
        if (gemm.columnGroups() > GemmLaunch.MAX_COLUMN_GROUPS) {
            throw new IllegalArgumentException("tiling " + tiling + ": " + gemm.columnGroups() + " column work-groups "
                    + "exceed " + GemmLaunch.MAX_COLUMN_GROUPS + "; use a larger tileN or KernelConfig.General");
        }
        long phaseBiasLength = hasInputDilation(g)
                ? (long) PhaseDecomposition.phaseCount(PhaseDecomposition.of(g)) * g.outChannels() : 0;
        // Refused here, before anything is compiled, so that the default plan falls back to the general kernel
        // (which needs no rows) instead of the call failing partway.
        if (phaseBiasLength > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("tiling " + tiling + ": " + phaseBiasLength + " per-phase bias values "
                    + "(phases x output channels) exceed 2^31 - 1; use KernelConfig.General");
        }
        if (phaseBiasLength > 0) {
            BatchChunks.forDevice(device).checkBuffer(4 * phaseBiasLength, "tiling " + tiling
                    + ": per-phase bias rows");
        }
        String options = gemm.options();
        ClProgram program = context.program(GEMM_SOURCES, options);
        ClKernel kernel = context.kernel(program, "conv_gemm");
        checkKernelLimit(kernel, device, tiling.workGroupSize(), "tiling " + tiling);
        Launch launch = new Launch(gemm::global, gemm.local());
        if (phaseBiasLength == 0) {
            return new ConvPlan(key, g, new KernelConfig.Gemm(tiling), hasBias, options, kernel, List.of(), launch,
                    tiling.vectorK(), tiling.vectorN());
        }
        ClKernel phaseBias;
        try {
            phaseBias = context.kernel(program, "phase_bias");
        } catch (RuntimeException e) {
            kernel.close();
            throw e;
        }
        return new ConvPlan(key, g, new KernelConfig.Gemm(tiling), hasBias, options, kernel, List.of(), launch,
                tiling.vectorK(), tiling.vectorN(), phaseBias, phaseBiasLength);
    }

    /** conv_gemm.cl's PHASED: input dilation in some dim, whose zeros the GEMM skips tap by tap. */
    private static boolean hasInputDilation(ConvGeometry g) {
        for (int dilation : g.inputDilation()) {
            if (dilation != 1) {
                return true;
            }
        }
        return false;
    }

    private static ConvPlan createDepthwise(OpenClContext context, ConvGeometry g, boolean hasBias,
            KernelConfig.Depthwise config, PlanKey key) {
        DepthwiseLaunch depthwise = DepthwiseLaunch.of(g, hasBias, config);
        OpenClDevice device = context.device();
        if (config.workGroupSize() > device.maxWorkGroupSize()) {
            throw new IllegalArgumentException("kernel config " + config + ": needs work-groups of "
                    + config.workGroupSize() + " items but " + device.describe() + " allows "
                    + device.maxWorkGroupSize());
        }
        if ((long) g.batch() * depthwise.itemsPerBatch() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("kernel config " + config + ": " + depthwise.itemsPerBatch()
                    + " work-items per batch element are too many for 32-bit indexing; use KernelConfig.General");
        }
        String options = depthwise.options();
        ClProgram program = context.program(DEPTHWISE_SOURCES, options);
        ClKernel kernel = context.kernel(program, "conv_depthwise");
        checkKernelLimit(kernel, device, config.workGroupSize(), "kernel config " + config);
        Launch launch = new Launch(depthwise::global, depthwise.local());
        int vector = depthwise.config().vectorWidth();
        int inputVector = g.outChannels() == g.inChannels() ? vector : 1;
        return new ConvPlan(key, g, depthwise.config(), hasBias, options, kernel, List.of(), launch,
                inputVector, vector);
    }

    /**
     * Refuses (and releases) a kernel the compiled program cannot launch with {@code workGroupSize} items; a
     * failed query releases it too.
     */
    private static void checkKernelLimit(ClKernel kernel, OpenClDevice device, long workGroupSize, String what) {
        long kernelLimit;
        try {
            kernelLimit = kernel.maxWorkGroupSize(device.handle());
        } catch (RuntimeException e) {
            kernel.close();
            throw e;
        }
        if (workGroupSize > kernelLimit) {
            kernel.close();
            throw new IllegalArgumentException(what + ": the compiled kernel runs at most " + kernelLimit
                    + " work-items per group on " + device.describe() + ", fewer than the " + workGroupSize
                    + " it needs");
        }
    }

    private static ConvPlan createGeneral(OpenClContext context, ConvGeometry g, boolean hasBias,
            KernelConfig.General config, PlanKey key) {
        int rank = g.rank();
        BuildOptions options = new BuildOptions().define("RANK", rank).define("CIN", g.inChannels())
                .define("COUT", g.outChannels()).define("GROUPS", g.groups()).define("TAPS", g.kernelTaps())
                .define("IN_PIXELS", g.inputSpatialSize()).define("OUT_PIXELS", g.outputSpatialSize())
                .define("HAS_BIAS", hasBias);
        if (g.productPrecision() == Precision.TF32) {
            options.define("TF32", 1);
        }
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
            ClProgram program = context.program(GENERAL_SOURCES, optionText);
            kernel = context.kernel(program, "conv_general");
            // The portable kernel must run on every conformant device, whatever group size was asked for: its
            // group size is free (one item per output, no local memory), so it is fitted to what the compiled
            // kernel allows, which can be below the device's maximum (32 of 1024 on rusticl's llvmpipe).
            int workGroup = WorkGroupSize.fit(config.workGroupSize(), kernel, context);
            long elementsPerBatch = (long) g.outputSpatialSize() * g.outChannels();
            Launch launch = new Launch(batch -> new long[] {(batch * elementsPerBatch + workGroup - 1) / workGroup
                    * workGroup}, new long[] {workGroup});
            return new ConvPlan(key, g, new KernelConfig.General(workGroup), hasBias, optionText, kernel, buffers,
                    launch, 1, 1);
        } catch (RuntimeException e) {
            if (kernel != null) {
                kernel.close();
            }
            buffers.forEach(ClBuffer::close);
            throw e;
        }
    }

    /**
     * Enqueues one run over {@code batch} batch elements: input from element {@code inputOffset} of
     * {@code input}, output to element {@code outputOffset} of {@code output}. Returns without waiting. A one-off
     * launch (the variant probe's, the tests'): a phased plan computes its bias rows into a buffer made for this
     * launch. The backend's calls, which may run the plan once per batch chunk and must allocate nothing in
     * steady state, take the rows from {@link #phaseBiasRows} once per call and pass them to
     * {@link #enqueue(OpenClContext, int, ClBuffer, int, ClBuffer, ClBuffer, ClBuffer, ClBuffer, int)}.
     */
    public void enqueue(OpenClContext context, int batch, ClBuffer input, int inputOffset, ClBuffer weights, ClBuffer bias,
            ClBuffer output, int outputOffset) {
        if (batch == 0) {
            return;
        }
        checkAlignment(inputOffset, outputOffset);
        if (phaseBias == null) {
            enqueue(context, batch, input, inputOffset, weights, bias, null, output, outputOffset);
            return;
        }
        // Released once the launches that use it are enqueued, which OpenCL defers until they have run.
        try (ClBuffer rows = context.allocate(4 * phaseBiasLength, "per-phase bias rows")) {
            enqueuePhaseBias(context, weights, bias, rows);
            enqueue(context, batch, input, inputOffset, weights, bias, rows, output, outputOffset);
        }
    }

    /**
     * As {@link #enqueue(OpenClContext, int, ClBuffer, int, ClBuffer, ClBuffer, ClBuffer, int)}, with a phased
     * plan's bias rows already computed from these {@code weights} and {@code bias} ({@link #phaseBiasRows});
     * {@code rows} is null for a plan without phases.
     */
    public void enqueue(OpenClContext context, int batch, ClBuffer input, int inputOffset, ClBuffer weights,
            ClBuffer bias, ClBuffer rows, ClBuffer output, int outputOffset) {
        if (batch == 0) {
            return;
        }
        checkAlignment(inputOffset, outputOffset);
        if ((rows != null) != (phaseBias != null)) {
            throw new IllegalArgumentException("rows: got " + (rows == null ? "null" : "a buffer") + " for plan "
                    + this + "; a phased plan needs its per-phase bias rows (phaseBiasRows), any other plan none");
        }
        if (phaseBias != null) {
            // The rows replace the bias: the kernel adds the row of each output's phase.
            kernel.launch(context.queue(), launch.global().apply(batch), launch.local(), batch, input, inputOffset,
                    weights, rows, output, outputOffset);
        } else if (tables.isEmpty()) {
            kernel.launch(context.queue(), launch.global().apply(batch), launch.local(), batch, input, inputOffset, weights,
                    bias, output, outputOffset);
        } else {
            kernel.launch(context.queue(), launch.global().apply(batch), launch.local(), batch, input, inputOffset, weights,
                    bias, output, outputOffset, tables.get(0), tables.get(1));
        }
    }

    /**
     * For a phased GEMM plan (input dilation: every strided input gradient, every transposed convolution): a
     * buffer from {@code pool} holding the per-phase bias rows of {@code weights} and {@code bias}, enqueued on the
     * compute queue; null for any other plan. Computed once per call and shared by its chunks; the caller gives
     * it back to the pool once its launches are enqueued (safe while they run: the queue is in order). A buffer
     * of the call's own, not one of the plan's: plans are shared by concurrent calls with other weights.
     */
    public ClBuffer phaseBiasRows(OpenClContext context, BufferPool pool, ClBuffer weights, ClBuffer bias) {
        if (phaseBias == null) {
            return null;
        }
        ClBuffer rows = pool.acquire(4 * phaseBiasLength, () -> "per-phase bias rows of " + this);
        try {
            enqueuePhaseBias(context, weights, bias, rows);
        } catch (RuntimeException e) {
            pool.release(rows);
            throw e;
        }
        return rows;
    }

    private void checkAlignment(int inputOffset, int outputOffset) {
        if (inputOffset % inputAlignment != 0 || outputOffset % outputAlignment != 0) {
            throw new IllegalArgumentException("plan " + this + ": loads " + inputAlignment + " and stores "
                    + outputAlignment + " floats at once, so the input offset (" + inputOffset + ") and output offset ("
                    + outputOffset + ") must be multiples of them");
        }
    }

    /** Enqueues phase_bias: {@code rows} = the bias plus the products with the dilation zeros the GEMM skips. */
    private void enqueuePhaseBias(OpenClContext context, ClBuffer weights, ClBuffer bias, ClBuffer rows) {
        long local = 64;
        phaseBias.launch(context.queue(), new long[] {(phaseBiasLength + local - 1) / local * local}, null,
                weights, bias, rows);
    }

    /** Whether this plan computes {@code g} (any batch). */
    public boolean accepts(ConvGeometry g, boolean withBias) {
        return withBias == hasBias && shapeSignature.equals(PlanKey.shapeSignature(g));
    }

    /**
     * The config as compiled: the requested one with vector widths fitted to the geometry, and the general
     * kernel's work-group size fitted to the compiled kernel's limit.
     */
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
        if (phaseBias != null) {
            phaseBias.close();
        }
        tables.forEach(ClBuffer::close);
    }

    @Override
    public String toString() {
        return "ConvPlan{" + config + ", " + shapeSignature + ", bias=" + hasBias + "}";
    }
}
