package org.convcl.opencl.internal.plan;

import org.convcl.ConvGeometry;

/**
 * The blocking of the implicit-GEMM kernel ({@code kernels/conv_gemm.cl}): a work-group computes a
 * {@code tileM x tileN} block of the output (rows = output positions, columns = output channels of one
 * group), walking the reduction in steps of {@code tileK}; each work-item accumulates a
 * {@code workPerItemM x workPerItemN} register block, so a work-group has
 * {@code (tileM / workPerItemM) x (tileN / workPerItemN)} work-items. Vector widths: {@code vectorM} rows
 * per local-memory read of the input tile, {@code vectorN} output channels per access of the kernel and the
 * output, {@code vectorK} input channels per global load of the input. {@code stages} 2 double-buffers the
 * tiles (the next tile's loads overlap the current tile's arithmetic), 1 loads then multiplies.
 *
 * <p>{@code mma} (TF32 precision, or float16 and bfloat16 storage) computes the product with warp-level 16 x 8 x 8
 * matrix multiplies in TF32, 16 x 8 x 16 on 16-bit operands (tensor cores on NVIDIA GPUs of compute capability 8.0
 * and later, an emulation with the same per-lane fragments elsewhere): the work-items form warps of 8 x 4, so a warp
 * computes a {@code (8 * workPerItemM) x (4 * workPerItemN)} block (its warp tile) and each work-item still owns
 * {@code workPerItemM x workPerItemN} accumulators. It needs even register blocks, {@code tileK} a multiple of 8
 * (of 16 on 16-bit operands, which {@link GemmLaunch} checks against the geometry), {@code vectorM} 1 and
 * {@code vectorN} at most 8.
 *
 * <p>These are plan inputs, compiled in with {@code -D}: a tuner may pick any valid value per device. A
 * vector width the geometry cannot use (it must divide the channel counts) is lowered by
 * {@link #fittedTo(ConvGeometry)}, which every plan applies.
 */
public record Tiling(int tileM, int tileN, int tileK, int workPerItemM, int workPerItemN, int vectorM,
        int vectorN, int vectorK, int stages, boolean mma) {
    /** Lanes of a warp: NVIDIA's, which the mma instructions and their emulation both assume. */
    public static final int WARP_SIZE = 32;

    public Tiling {
        check("tileM", tileM, 1024);
        check("tileN", tileN, 1024);
        check("tileK", tileK, 256);
        check("workPerItemM", workPerItemM, 64);
        check("workPerItemN", workPerItemN, 64);
        checkWidth("vectorM", vectorM, 8);
        checkWidth("vectorN", vectorN, 16);
        checkWidth("vectorK", vectorK, 8);
        if (stages != 1 && stages != 2) {
            throw new IllegalArgumentException("tiling: stages is " + stages + "; it must be 1 or 2");
        }
        if (tileM % workPerItemM != 0) {
            throw new IllegalArgumentException("tiling: tileM " + tileM + " is not a multiple of workPerItemM "
                    + workPerItemM + "; each work-item must own whole rows");
        }
        if (tileN % workPerItemN != 0) {
            throw new IllegalArgumentException("tiling: tileN " + tileN + " is not a multiple of workPerItemN "
                    + workPerItemN + "; each work-item must own whole columns");
        }
        if (workPerItemM % vectorM != 0 || workPerItemN % vectorN != 0 || tileK % vectorK != 0) {
            throw new IllegalArgumentException("tiling: vector widths " + vectorM + "/" + vectorN + "/" + vectorK
                    + " must divide workPerItemM " + workPerItemM + ", workPerItemN " + workPerItemN + " and tileK "
                    + tileK);
        }
        if (mma) {
            checkMma(tileM, tileN, tileK, workPerItemM, workPerItemN, vectorM, vectorN);
        }
    }

    /** A tiling with register-blocked FMAs (no warp-level mma). */
    public Tiling(int tileM, int tileN, int tileK, int workPerItemM, int workPerItemN, int vectorM, int vectorN,
            int vectorK, int stages) {
        this(tileM, tileN, tileK, workPerItemM, workPerItemN, vectorM, vectorN, vectorK, stages, false);
    }

    /** A single-stage tiling. */
    public Tiling(int tileM, int tileN, int tileK, int workPerItemM, int workPerItemN, int vectorM, int vectorN,
            int vectorK) {
        this(tileM, tileN, tileK, workPerItemM, workPerItemN, vectorM, vectorN, vectorK, 1);
    }

    /** A single-stage tiling with scalar accesses. */
    public Tiling(int tileM, int tileN, int tileK, int workPerItemM, int workPerItemN) {
        this(tileM, tileN, tileK, workPerItemM, workPerItemN, 1, 1, 1, 1);
    }

    private static void checkMma(int tileM, int tileN, int tileK, int workPerItemM, int workPerItemN, int vectorM,
            int vectorN) {
        String rule = "; a warp-level mma tiling needs ";
        if (workPerItemM % 2 != 0 || workPerItemN % 2 != 0) {
            throw new IllegalArgumentException("tiling: mma with register block " + workPerItemM + "x" + workPerItemN
                    + rule + "even workPerItemM and workPerItemN (warp tiles of whole 16 x 8 products)");
        }
        if ((tileM / workPerItemM) % 8 != 0 || (tileN / workPerItemN) % 4 != 0) {
            throw new IllegalArgumentException("tiling: mma with " + (tileM / workPerItemM) + "x" + (tileN / workPerItemN)
                    + " work-items" + rule + "a multiple of 8 along M and of 4 along N (whole warps of 8 x 4)");
        }
        if (tileK % 8 != 0) {
            throw new IllegalArgumentException("tiling: mma with tileK " + tileK + rule + "a multiple of 8");
        }
        if (vectorM != 1 || vectorN > 8) {
            throw new IllegalArgumentException("tiling: mma with vector widths " + vectorM + "/" + vectorN + rule
                    + "vectorM 1 and vectorN at most 8");
        }
    }

    private static void check(String name, int value, int max) {
        if (value < 1 || value > max) {
            throw new IllegalArgumentException("tiling: " + name + " is " + value + "; it must be in [1, " + max + "]");
        }
    }

    private static void checkWidth(String name, int value, int max) {
        if (value < 1 || value > max || Integer.bitCount(value) != 1) {
            throw new IllegalArgumentException("tiling: " + name + " is " + value + "; it must be a power of two in [1, "
                    + max + "]");
        }
    }

    /** Work-items per work-group along the output positions. */
    public int itemsM() {
        return tileM / workPerItemM;
    }

    /** Work-items per work-group along the output channels. */
    public int itemsN() {
        return tileN / workPerItemN;
    }

    public int workGroupSize() {
        return itemsM() * itemsN();
    }

    /** Rows a work-group's tile must be a multiple of: a work-item's, or with mma a warp's. */
    public int rowUnit() {
        return mma ? 8 * workPerItemM : workPerItemM;
    }

    /** Columns a work-group's tile must be a multiple of: a work-item's, or with mma a warp's. */
    public int columnUnit() {
        return mma ? 4 * workPerItemN : workPerItemN;
    }

    /** This tiling with {@code tileM} rows (a multiple of {@link #rowUnit()}). */
    public Tiling withTileM(int tileM) {
        return new Tiling(tileM, tileN, tileK, workPerItemM, workPerItemN, vectorM, vectorN, vectorK, stages, mma);
    }

    /** This tiling with {@code tileN} columns (a multiple of {@link #columnUnit()}). */
    public Tiling withTileN(int tileN) {
        return new Tiling(tileM, tileN, tileK, workPerItemM, workPerItemN, vectorM, vectorN, vectorK, stages, mma);
    }

    /** This tiling with {@code stages} buffers per tile. */
    public Tiling withStages(int stages) {
        return new Tiling(tileM, tileN, tileK, workPerItemM, workPerItemN, vectorM, vectorN, vectorK, stages, mma);
    }

    /** Whether each K tile lies inside one tap for {@code g} (the kernel then loads channel vectors). */
    public boolean channelTiles(ConvGeometry g) {
        return g.inChannelsPerGroup() % tileK == 0;
    }

    /**
     * This tiling with vector widths lowered until {@code g} can use them: {@code vectorN} must divide the
     * output channels per group, and {@code vectorK} the input channels per group with K tiles inside taps.
     */
    public Tiling fittedTo(ConvGeometry g) {
        int n = vectorN;
        while (n > 1 && g.outChannelsPerGroup() % n != 0) {
            n /= 2;
        }
        int k = channelTiles(g) ? vectorK : 1;
        while (k > 1 && g.inChannelsPerGroup() % k != 0) {
            k /= 2;
        }
        return n == vectorN && k == vectorK ? this
                : new Tiling(tileM, tileN, tileK, workPerItemM, workPerItemN, vectorM, n, k, stages, mma);
    }

    /** Local memory of the input and kernel tiles (each stage) and the per-row table, in bytes (the tap
     *  table, and an emulated mma's scratch, add to it). With mma, rows are padded by 8 words against bank
     *  conflicts of the fragment loads. */
    public long localMemoryBytes() {
        int aPad = mma ? 8 : vectorM;
        int bPad = mma ? 8 : 0;
        return 4L * (stages * ((long) tileK * (tileM + aPad) + (long) tileK * (tileN + bPad)) + 4L * tileM);
    }

    @Override
    public String toString() {
        return tileM + "x" + tileN + "x" + tileK + "/" + workPerItemM + "x" + workPerItemN + " v" + vectorM + "."
                + vectorN + "." + vectorK + (stages == 2 ? " db" : "")
                + (mma ? " mma " + (8 * workPerItemM) + "x" + (4 * workPerItemN) : "");
    }
}
