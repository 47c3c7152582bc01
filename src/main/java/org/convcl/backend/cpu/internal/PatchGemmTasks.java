package org.convcl.backend.cpu.internal;

import java.util.concurrent.atomic.AtomicLong;
import org.convcl.ConvGeometry;
import org.convcl.EdgeMode;

/**
 * A strided forward call with several taps (ResNet's downsampling 3x3 layers) as one matrix multiply over patches
 * (im2col): output position {@code m}'s receptive field, each tap's {@code Cin} input values in the kernel's tap
 * order (padding read as zeros, or wrapped or mirrored by the edge mode), is row {@code m} of a patch matrix
 * {@code [M, taps x Cin]}, and the kernel {@code (*k, Cin, Cout)}, which is already that many rows of
 * {@code Cout}, multiplies it through the 1x1 path's register blocks ({@link PointwiseKernel}: packed panels,
 * reduction chunks that stay in cache while every row block passes over them).
 *
 * <p>Why: where a strided layer has few output positions per image (ResNet-50's last stage: 7 x 7), Winograd's
 * phases cover them poorly and read a transformed kernel larger than the original for each few tiles, and the
 * row kernels stream the layer's whole kernel (9.4 MB at 512 channels) once per output row of 7 positions. Here a
 * tile of up to a few hundred rows reads its columns of the kernel once: 0.73 ms against the phases' 1.15 on that
 * layer alone at batch 1 ({@link #fewPositions} has the figures). The price is copying each row's patch ({@code taps x Cin} floats; a stride-1 layer would copy
 * every input value {@code taps} times, and goes to Winograd's tiles or the row kernels).
 *
 * <p>A task builds its rows' patches in its thread's scratch; a thread whose previous task was in the same call and
 * had the same rows (tasks go rows-major, {@link GemmTiles}) uses them again. The sums are the same float32 chain
 * of fused multiply-adds, tap after tap and channel after channel, as the row kernels', plus products of padding
 * zeros, which add +0 to a sum that starts from +0. Immutable; tasks run on any thread, each writing its own tile.
 */
public final class PatchGemmTasks {
    /**
     * Floats of patches a task holds at most (2 MiB): rows of a tile times {@code taps x Cin}. Bounds each worker's
     * scratch, kept between calls, and sets how often a layer with long patches reads its kernel (once per row
     * tile: ResNet-50's last stage at batch 1 has 49 rows of 4608 floats, one tile).
     */
    static final int MAX_PATCH_FLOATS = 1 << 19;
    /** Rows a tile holds at most, as the 1x1 path's. */
    private static final int MAX_ROW_TILE = 256;
    /** Input channels below which a patch is mostly per-tap overhead (an RGB stem has its own patch panels). */
    static final int MIN_IN_CHANNELS = 16;
    /**
     * Output positions per image up to which this path goes before Winograd's phases ({@link #fewPositions}): 14 x
     * 14, ResNet's third stage.
     */
    private static final int FEW_POSITIONS = 196;
    private static final AtomicLong CALLS = new AtomicLong();
    private static final ThreadLocal<Patches> PATCHES = ThreadLocal.withInitial(Patches::new);

    private final long call = CALLS.incrementAndGet();
    private final PointwiseKernel kernel;
    private final float[] packedKernel;
    private final GemmTiles tiles;
    private final int inChannels;
    private final int outChannels;
    private final int reduction;
    private final int rank;
    private final int taps;
    private final int[] inSpatial;
    private final int[] outSpatial;
    private final int[] kernelSpatial;
    private final int inputSpatialSize;
    private final int outputSpatialSize;
    /** Per spatial dim, the input coordinate that output coordinate o reads through tap t at [o * k + t], or -1. */
    private final int[][] sources;

    private PatchGemmTasks(ConvGeometry g, PointwiseKernel kernel, float[] packedKernel) {
        this.kernel = kernel;
        this.packedKernel = packedKernel;
        inChannels = g.inChannels();
        outChannels = g.outChannels();
        taps = g.kernelTaps();
        reduction = taps * inChannels;
        rank = g.rank();
        inSpatial = g.inSpatial();
        outSpatial = g.outSpatial();
        kernelSpatial = g.kernelSpatial();
        inputSpatialSize = g.inputSpatialSize();
        outputSpatialSize = g.outputSpatialSize();
        sources = new int[rank][];
        for (int d = 0; d < rank; d++) {
            sources[d] = sourceTable(g, d);
        }
        int maxRows = Math.max(GemmTiles.ROW_BLOCK,
                Math.min(MAX_ROW_TILE, MAX_PATCH_FLOATS / reduction / GemmTiles.ROW_BLOCK * GemmTiles.ROW_BLOCK));
        tiles = new GemmTiles(g.batch() * outputSpatialSize, reduction, outChannels, kernel.channelBlock(), maxRows);
    }

    /**
     * The call's tasks, or null where this path does not take {@code g} (see {@link #applies}) or the JVM has no
     * Vector API. The packed kernel is kept across calls for {@code kernel}'s array.
     */
    public static PatchGemmTasks of(ConvGeometry g, KernelOperand kernel) {
        PointwiseKernel pointwise = CpuKernels.pointwise();
        if (pointwise == null || !applies(g)) {
            return null;
        }
        int reduction = g.kernelTaps() * g.inChannels();
        float[] packed = kernel.prepared(PreparedKernels.Form.PATCH_PANELS,
                values -> pointwise.pack(reduction, g.outChannels(), values), false,
                (form, values) -> pointwise.packedHolds(reduction, g.outChannels(), form, values));
        return new PatchGemmTasks(g, pointwise, packed);
    }

    /**
     * Whether this path takes {@code g}: several taps, a stride above 1, one group, no input dilation, at least
     * {@link #MIN_IN_CHANNELS} input channels, patches short enough that a register block's rows fit the scratch's
     * bound, and index arithmetic within ints.
     */
    static boolean applies(ConvGeometry g) {
        if (g.groups() != 1 || g.kernelTaps() < 2 || g.inChannels() < MIN_IN_CHANNELS) {
            return false;
        }
        boolean strided = false;
        for (int d = 0; d < g.rank(); d++) {
            if (g.inputDilation()[d] != 1) {
                return false;
            }
            strided |= g.strides()[d] > 1;
        }
        long reduction = (long) g.kernelTaps() * g.inChannels();
        return strided && reduction * GemmTiles.ROW_BLOCK <= MAX_PATCH_FLOATS
                && (long) g.batch() * g.inputSpatialSize() * g.inChannels() <= Integer.MAX_VALUE
                && (long) g.batch() * g.outputSpatialSize() * g.outChannels() <= Integer.MAX_VALUE;
    }

    /**
     * Whether {@code g} has at most {@link #FEW_POSITIONS} output positions per image, where this path goes before
     * Winograd's phases. There the phases' tiles cover the output poorly (7 x 7 takes 8 x 8, 31 % more) and each
     * tile's product has too few rows to reuse a transformed kernel larger than the original. ResNet-50's strided
     * 3x3 layers, 2026-12-07, AMD EPYC, 2 cores, ms per call through the phases / here: 7 x 7 outputs at 512
     * channels, the layer alone and repeated, 1.15 / 0.73 at batch 1 and 9.8-11.9 / 6.7-7.5 at batch 8, and in the
     * network (each layer's input just read, its kernel from memory) 1.38 / 0.94 at batch 1; 14 x 14 at 256 channels
     * in the network 0.86 / 0.72 at batch 1, 5.1 / 5.4 at batch 8 (within the run's noise). At 28 x 28 the phases kept their lead on the benchmark suite's strided3x3s2 (128 to 256 channels,
     * batch 8: 10.8-11.9 against 13.0-14.4 ms), so larger outputs stay with them.
     */
    public static boolean fewPositions(ConvGeometry g) {
        return g.outputSpatialSize() <= FEW_POSITIONS;
    }

    public int count() {
        return tiles.count();
    }

    /**
     * Whether {@link #run} with {@code store} reads an in-place residual (one that is the output) before it writes
     * over it: when the stores apply the epilogue, each tile first copies its own part of the residual aside
     * ({@link TaskResidual}), as the 1x1 tiles do. Otherwise the caller must hand over a store whose residual is
     * not the output.
     */
    public static boolean takesInPlaceResidual(StoreEpilogue store) {
        return store.appliesInStores();
    }

    /**
     * Writes task {@code task}'s tile, with {@code store} applied to it (when not null); a residual that is the
     * output itself only where {@link #takesInPlaceResidual}.
     */
    public void run(int task, float[] input, float[] bias, float[] output, StoreEpilogue store) {
        int mFrom = tiles.rowFrom(task);
        int mTo = tiles.rowTo(task);
        int nFrom = tiles.channelFrom(task);
        int nTo = tiles.channelTo(task);
        Patches patches = PATCHES.get();
        int rowTile = tiles.rowTileOf(task);
        if (patches.call != call || patches.rowTile != rowTile) {
            patches.call = 0; // not valid while being rebuilt (a failed build must not be reused)
            patches.ensure(mTo - mFrom, reduction);
            buildPatches(input, mFrom, mTo, patches.values);
            patches.call = call;
            patches.rowTile = rowTile;
        }
        boolean inStores = store != null && store.appliesInStores();
        StoreEpilogue tileStore = inStores ? TaskResidual.overTile(store, output, outChannels, mFrom, mTo, nFrom, nTo)
                : null;
        kernel.computeTile(reduction, outChannels, patches.rowOffsets, mFrom, mTo, nFrom, nTo, patches.values,
                packedKernel, bias, output, tileStore);
        if (store != null && !inStores) {
            for (int m = mFrom; m < mTo; m++) {
                store.apply(m * outChannels + nFrom, m * outChannels + nTo);
            }
        }
    }

    /** Writes the patches of output rows {@code [mFrom, mTo)} into {@code patches}, row after row from 0. */
    private void buildPatches(float[] input, int mFrom, int mTo, float[] patches) {
        int[] out = new int[rank];
        int[] tap = new int[rank];
        int at = 0;
        for (int m = mFrom; m < mTo; m++) {
            int b = m / outputSpatialSize;
            for (int d = rank - 1, rest = m % outputSpatialSize; d >= 0; d--) {
                out[d] = rest % outSpatial[d];
                rest /= outSpatial[d];
            }
            int batchBase = b * inputSpatialSize;
            java.util.Arrays.fill(tap, 0);
            for (int t = 0; t < taps; t++) {
                int pixel = 0;
                for (int d = 0; d < rank && pixel >= 0; d++) {
                    int source = sources[d][out[d] * kernelSpatial[d] + tap[d]];
                    pixel = source < 0 ? -1 : pixel * inSpatial[d] + source;
                }
                if (pixel < 0) {
                    java.util.Arrays.fill(patches, at, at + inChannels, 0f);
                } else {
                    System.arraycopy(input, (batchBase + pixel) * inChannels, patches, at, inChannels);
                }
                at += inChannels;
                // The next tap, the last kernel dim fastest (the kernel's own order).
                for (int d = rank - 1; d >= 0 && ++tap[d] == kernelSpatial[d]; d--) {
                    tap[d] = 0;
                }
            }
        }
    }

    /**
     * The input coordinate along dim {@code d} that each output coordinate reads through each tap, or -1. The
     * geometry's arrays are read once: its getters give copies.
     */
    private static int[] sourceTable(ConvGeometry g, int d) {
        int k = g.kernelSpatial()[d];
        int out = g.outSpatial()[d];
        int in = g.inSpatial()[d];
        long stride = g.strides()[d];
        long dilation = g.kernelDilation()[d];
        int padLo = g.padLo()[d];
        EdgeMode edge = g.edgeMode();
        int[] table = new int[out * k];
        for (int o = 0; o < out; o++) {
            for (int t = 0; t < k; t++) {
                long q = o * stride + t * dilation - padLo;
                table[o * k + t] = q < Integer.MIN_VALUE || q > Integer.MAX_VALUE ? -1 : edge.sourceIndex((int) q, in, 1);
            }
        }
        return table;
    }

    /** A thread's patch matrix, the row offsets into it, and which call's rows it holds. */
    private static final class Patches {
        float[] values = new float[0];
        int[] rowOffsets = new int[0];
        int rowOffsetsStep = -1;
        long call;
        int rowTile = -1;

        void ensure(int rows, int reduction) {
            if (values.length < rows * reduction) {
                values = new float[rows * reduction];
            }
            if (rowOffsets.length < rows || rowOffsetsStep != reduction) {
                rowOffsets = new int[Math.max(rows, rowOffsets.length)];
                for (int r = 0; r < rowOffsets.length; r++) {
                    rowOffsets[r] = r * reduction;
                }
                rowOffsetsStep = reduction;
            }
        }
    }
}
