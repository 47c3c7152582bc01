package org.convcl.backend.cpu.internal;

import org.convcl.ConvGeometry;

/**
 * A forward call whose kernel has a single tap (1x1, no padding, no input dilation, one group), computed as one
 * matrix multiply {@code [M, Cin] x [Cin, Cout]} in channels-last: M counts the output positions of every batch
 * element together, and each reads the input pixel at its position times the strides (every pixel at stride 1, a
 * strided gather at stride 2). The row tasks cut such a call into rows: a 7x7 layer gave 7 tasks at batch 1, each
 * re-reading the whole kernel (4 MB at 2048 -> 512 channels). Here tasks are tiles of M x Cout, sized by their
 * work, so that small layers still feed every core and each tile reads its columns of the kernel once.
 *
 * <p>Immutable; tasks run on any thread, each writing its own tile of the output.
 */
public final class PointwiseTasks {
    /**
     * Rows a tile holds at most: its rows' chunk of input ({@code rows x 256} floats, 256 KiB here) stays in the
     * second-level cache while the tile's channel blocks pass over it.
     */
    private static final int MAX_ROW_TILE = 256;
    /**
     * Each thread's row offsets, reused by its tasks (one array per task was the pointwise path's only garbage).
     * Bounded: a tile holds at most {@link #MAX_ROW_TILE} rows.
     */
    private static final ThreadLocal<int[]> ROW_OFFSETS = ThreadLocal.withInitial(() -> new int[MAX_ROW_TILE]);

    private final PointwiseKernel kernel;
    private final float[] packedKernel;
    private final int inChannels;
    private final int outChannels;
    private final GemmTiles tiles;
    /** Output positions per batch element, and the geometry's strides; null strides when all are 1. */
    private final int[] outSpatial;
    private final int[] inSpatial;
    private final int[] strides;

    private PointwiseTasks(ConvGeometry g, PointwiseKernel kernel, float[] packedKernel) {
        this.kernel = kernel;
        this.packedKernel = packedKernel;
        inChannels = g.inChannels();
        outChannels = g.outChannels();
        outSpatial = g.outSpatial();
        inSpatial = g.inSpatial();
        strides = allOnes(g.strides()) ? null : g.strides();
        tiles = new GemmTiles(g.batch() * g.outputSpatialSize(), inChannels, outChannels, kernel.channelBlock(),
                MAX_ROW_TILE);
    }

    /**
     * The call's tasks, or null where this path does not take {@code g} (more than one tap, padding, input
     * dilation, groups) or the JVM has no Vector API. The packed kernel is kept across calls for {@code kernel}'s
     * array.
     */
    public static PointwiseTasks of(ConvGeometry g, KernelOperand kernel) {
        PointwiseKernel pointwise = CpuKernels.pointwise();
        if (pointwise == null || !applies(g)) {
            return null;
        }
        float[] packed = kernel.prepared(PreparedKernels.Form.POINTWISE_PANELS,
                values -> pointwise.pack(g.inChannels(), g.outChannels(), values), false,
                (form, values) -> pointwise.packedHolds(g.inChannels(), g.outChannels(), form, values));
        return new PointwiseTasks(g, pointwise, packed);
    }

    /**
     * The call's tasks with {@code kernel} packed for this call alone (the 16-bit forward's kernel, decoded per
     * call), or null where {@link #of} would give null.
     */
    static PointwiseTasks preparedNow(ConvGeometry g, float[] kernel) {
        PointwiseKernel pointwise = CpuKernels.pointwise();
        if (pointwise == null || !applies(g)) {
            return null;
        }
        return new PointwiseTasks(g, pointwise, pointwise.pack(g.inChannels(), g.outChannels(), kernel));
    }

    /** Whether {@code g} is one matrix multiply: a single tap, no padding, no input dilation, one group. */
    static boolean applies(ConvGeometry g) {
        return g.groups() == 1 && g.kernelTaps() == 1 && allOnes(g.inputDilation()) && allZeros(g.padLo())
                && allZeros(g.padHi()) && (long) g.batch() * g.inputSpatialSize() * g.inChannels() <= Integer.MAX_VALUE;
    }

    public int count() {
        return tiles.count();
    }

    /**
     * Whether {@code g} runs as these tiles ({@link #of} not null) and their {@link #run} with {@code store} reads
     * an in-place residual (one that is the output) before it writes over it: when the stores apply the epilogue,
     * each tile first copies its own part of the residual aside ({@link TaskResidual}). Otherwise the caller must
     * hand over a store whose residual is not the output.
     */
    public static boolean takesInPlaceResidual(ConvGeometry g, StoreEpilogue store) {
        return CpuKernels.pointwise() != null && applies(g) && store.appliesInStores();
    }

    /**
     * Writes task {@code task}'s tile, with {@code store} applied to it (when not null); a residual that is the
     * output itself only where {@link #takesInPlaceResidual}.
     */
    public void run(int task, float[] input, float[] bias, float[] output, StoreEpilogue store) {
        int mFrom = rowFrom(task);
        int mTo = rowTo(task);
        int nFrom = channelFrom(task);
        int nTo = channelTo(task);
        boolean inStores = store != null && store.appliesInStores();
        StoreEpilogue tileStore = inStores ? TaskResidual.overTile(store, output, outChannels, mFrom, mTo, nFrom, nTo)
                : null;
        kernel.computeTile(inChannels, outChannels, rowOffsets(mFrom, mTo), mFrom, mTo, nFrom, nTo, input,
                packedKernel, bias, output, tileStore);
        if (store != null && !inStores) {
            for (int m = mFrom; m < mTo; m++) {
                store.apply(m * outChannels + nFrom, m * outChannels + nTo);
            }
        }
    }

    /**
     * Writes task {@code task}'s tile from a copy of its rows' input pixels ({@code Cin} values each, row after
     * row from 0 in {@code rowsInput}) into {@code rowsOutput}, row after row from 0 ({@code Cout} values each, the
     * tile's channels only written): the 16-bit tasks' float scratches.
     */
    void runOnRows(int task, float[] rowsInput, float[] bias, float[] rowsOutput) {
        int count = rowTo(task) - rowFrom(task);
        int[] offsets = threadOffsets(count);
        for (int i = 0; i < count; i++) {
            offsets[i] = i * inChannels;
        }
        kernel.computeTile(inChannels, outChannels, offsets, 0, count, channelFrom(task), channelTo(task), rowsInput,
                packedKernel, bias, rowsOutput, null);
    }

    int rowFrom(int task) {
        return tiles.rowFrom(task);
    }

    int rowTo(int task) {
        return tiles.rowTo(task);
    }

    int channelFrom(int task) {
        return tiles.channelFrom(task);
    }

    int channelTo(int task) {
        return tiles.channelTo(task);
    }

    /** Rows a task holds at most. */
    int rowTile() {
        return tiles.rowTile();
    }

    /** The calling thread's offsets array, at least {@code count} long. */
    private static int[] threadOffsets(int count) {
        int[] offsets = ROW_OFFSETS.get();
        if (offsets.length < count) {
            // Not expected (tiles hold at most MAX_ROW_TILE rows), but never a wrong answer if that changes.
            offsets = new int[count];
            ROW_OFFSETS.set(offsets);
        }
        return offsets;
    }

    /**
     * Where each row's input pixel starts: the output position's coordinates times the strides; in the calling
     * thread's array (its first {@code mTo - mFrom} entries), valid until the thread's next call here.
     */
    int[] rowOffsets(int mFrom, int mTo) {
        int[] offsets = threadOffsets(mTo - mFrom);
        if (strides == null) {
            for (int m = mFrom; m < mTo; m++) {
                offsets[m - mFrom] = m * inChannels;
            }
            return offsets;
        }
        int outSize = 1;
        int inSize = 1;
        for (int d = 0; d < outSpatial.length; d++) {
            outSize *= outSpatial[d];
            inSize *= inSpatial[d];
        }
        for (int m = mFrom; m < mTo; m++) {
            int position = m % outSize;
            int pixel = 0;
            for (int d = 0, rest = position, below = outSize; d < outSpatial.length; d++) {
                below /= outSpatial[d];
                int coordinate = rest / below;
                rest %= below;
                pixel = pixel * inSpatial[d] + coordinate * strides[d];
            }
            offsets[m - mFrom] = (m / outSize * inSize + pixel) * inChannels;
        }
        return offsets;
    }

    private static boolean allOnes(int[] values) {
        for (int v : values) {
            if (v != 1) {
                return false;
            }
        }
        return true;
    }

    private static boolean allZeros(int[] values) {
        for (int v : values) {
            if (v != 0) {
                return false;
            }
        }
        return true;
    }
}
