package org.convcl.opencl.internal.plan;

import org.convcl.ConvGeometry;
import org.convcl.DType;
import org.convcl.Precision;
import org.convcl.backend.internal.IntMath;
import org.convcl.opencl.internal.runtime.BuildOptions;

/**
 * The implicit-GEMM kernel specialised for one geometry and tiling: its launch shape and (built on request,
 * since choosing a config needs only the shape) its {@code -D} options. Pure arithmetic, no device calls;
 * {@link GemmVariant} compiles it and {@link ConvPlan} launches it.
 *
 * @param geometry      what is computed
 * @param hasBias       whether a bias is added
 * @param tiling        the tiling with vector widths fitted to the geometry
 * @param rowsPerBatch  output positions of the largest phase for one batch element (work-groups along M:
 *                      {@code ceil(batch * rowsPerBatch / tileM)})
 * @param columnGroups  work-groups along the second grid dim (N tiles x groups x phases)
 * @param localMemoryBytes what the kernel declares in local memory
 * @param tensorCores   whether a warp-level mma tiling runs on tensor cores (inline PTX) rather than emulated
 */
public record GemmLaunch(ConvGeometry geometry, boolean hasBias, Tiling tiling, long rowsPerBatch, long columnGroups,
        long localMemoryBytes, boolean tensorCores) {

    /** The most work-groups OpenCL drivers on CUDA hardware accept along the second grid dim. */
    public static final long MAX_COLUMN_GROUPS = 65535;

    /** Words of local memory an emulated TF32 mma exchanges fragments through, per warp (16 x 8 A and 8 x 8 B). */
    static final int EMULATED_MMA_WORDS = 192;
    /** As {@link #EMULATED_MMA_WORDS} for the 16-bit mma (16 x 16 A and 16 x 8 B). */
    static final int EMULATED_HALF_MMA_WORDS = 384;

    /**
     * The launch of {@code requested} for {@code g}. An mma tiling needs TF32 products on float32 storage (it is
     * refused for a float32 geometry computed in float32), or float16 or bfloat16 storage with a {@code tileK} that
     * is a multiple of {@link #mmaK}; {@code tensorCores} says whether the device runs it as inline PTX.
     */
    public static GemmLaunch of(ConvGeometry g, boolean hasBias, Tiling requested, boolean tensorCores) {
        if (!GemmVariant.INSTANCE.supports(g)) {
            throw new IllegalArgumentException("kernel config gemm " + requested + ": the GEMM kernel handles ranks 1 "
                    + "to 3 (edge padding without input dilation), got " + g + "; use KernelConfig.General");
        }
        if (requested.mma() && g.storage() == DType.FLOAT32 && g.productPrecision() != Precision.TF32) {
            throw new IllegalArgumentException("kernel config gemm " + requested + ": warp-level mma multiplies TF32 "
                    + "operands (or float16 and bfloat16 ones), but " + g + " computes its products in "
                    + g.productPrecision() + "; use a tiling without mma, or Precision.TF32");
        }
        if (requested.mma() && requested.tileK() % mmaK(g) != 0) {
            throw new IllegalArgumentException("kernel config gemm " + requested + ": tileK is " + requested.tileK()
                    + ", but warp-level mma on " + g.storage().cliName() + " operands takes k in steps of " + mmaK(g)
                    + "; use a tileK that is a multiple of " + mmaK(g));
        }
        Tiling tiling = requested.fittedTo(g);
        int scratchWords = g.storage() == DType.FLOAT32 ? EMULATED_MMA_WORDS : EMULATED_HALF_MMA_WORDS;
        long scratch = tiling.mma() && !tensorCores
                ? 4L * scratchWords * (tiling.workGroupSize() / Tiling.WARP_SIZE) : 0;
        PhaseDecomposition.Dim[] dims = PhaseDecomposition.of(g);
        long phases = PhaseDecomposition.phaseCount(dims);
        long tapTable = 4L * 4 * PhaseDecomposition.maxTaps(dims);
        // In a long: a plan with more column groups than a grid allows is refused (GemmVariant).
        long columnGroups = (long) IntMath.ceilDiv(g.outChannelsPerGroup(), tiling.tileN()) * g.groups() * phases;
        return new GemmLaunch(g, hasBias, tiling, PhaseDecomposition.maxPhaseOutputs(dims), columnGroups,
                tiling.localMemoryBytes() + tapTable + scratch, tensorCores && tiling.mma());
    }

    /**
     * The k of one warp-level mma for {@code g}'s operands: 8 for TF32 ({@code m16n8k8}), 16 for float16 and bfloat16
     * ({@code m16n8k16}); an mma tiling's {@code tileK} must be a multiple of it.
     */
    public static int mmaK(ConvGeometry g) {
        return g.storage() == DType.FLOAT32 ? 8 : 16;
    }

    /** Every {@code -D} the program is built with. */
    String options() {
        ConvGeometry g = geometry;
        PhaseDecomposition.Dim[] dims = PhaseDecomposition.of(g);
        String[] names = {"D", "H", "W"};
        int offset = 3 - g.rank();
        BuildOptions options = new BuildOptions()
                .define("TILE_M", tiling.tileM()).define("TILE_N", tiling.tileN()).define("TILE_K", tiling.tileK())
                .define("WPT_M", tiling.workPerItemM()).define("WPT_N", tiling.workPerItemN())
                .define("VWM", tiling.vectorM()).define("VWN", tiling.vectorN()).define("VEC_K", tiling.vectorK())
                .define("STAGES", tiling.stages())
                .define("CHANNEL_TILES", tiling.channelTiles(g)).define("POINTWISE", isPointwise(g));
        for (int d = 0; d < 3; d++) {
            PhaseDecomposition.Dim dim = dims[d];
            String n = names[d];
            options.define("IN_" + n, d < offset ? 1 : g.inSpatial()[d - offset]).define("K_" + n, dim.kernel())
                    .define("OUT_" + n, dim.outputs()).define("STRIDE_" + n, dim.stride())
                    .define("IDIL_" + n, dim.inputDilation()).define("KDIL_" + n, dim.kernelDilation())
                    .define("PAD_" + n, dim.padLo()).define("PH_" + n, dim.phases())
                    .define("TSTEP_" + n, dim.tapStep()).define("SSTRIDE_" + n, dim.phaseStride())
                    .define("TDIL_" + n, dim.tapDilation());
        }
        options.define("CIN", g.inChannels()).define("COUT", g.outChannels()).define("GROUPS", g.groups())
                .define("EDGE_MODE", g.edgeMode().ordinal()).define("HAS_BIAS", hasBias);
        // Defined only when set: a float32 plan's options, and so its program, are those of before TF32.
        if (g.productPrecision() == Precision.TF32) {
            options.define("TF32", 1);
        }
        if (tiling.mma()) {
            options.define("MMA", 1).define("MMA_PTX", tensorCores);
        }
        return StorageOption.define(options, g.storage()).toString();
    }

    /** A 1x1 kernel with unit stride, no padding and no dilation: the input is the GEMM's A matrix. */
    static boolean isPointwise(ConvGeometry g) {
        for (int d = 0; d < g.rank(); d++) {
            if (g.kernelSpatial()[d] != 1 || g.strides()[d] != 1 || g.inputDilation()[d] != 1 || g.padLo()[d] != 0
                    || g.outSpatial()[d] != g.inSpatial()[d]) {
                return false;
            }
        }
        return true;
    }

    /** Global sizes for {@code batch} batch elements; local is {@code (workGroupSize, 1)}. */
    long[] global(int batch) {
        long rows = batch * rowsPerBatch;
        long rowGroups = (rows + tiling.tileM() - 1) / tiling.tileM();
        return new long[] {rowGroups * tiling.workGroupSize(), columnGroups};
    }

    long[] local() {
        return new long[] {tiling.workGroupSize(), 1};
    }
}
