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
 * <p>These are plan inputs, compiled in with {@code -D}: a tuner may pick any valid value per device. A
 * vector width the geometry cannot use (it must divide the channel counts) is lowered by
 * {@link #fittedTo(ConvGeometry)}, which every plan applies.
 */
public record Tiling(int tileM, int tileN, int tileK, int workPerItemM, int workPerItemN, int vectorM,
        int vectorN, int vectorK, int stages) {
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
                : new Tiling(tileM, tileN, tileK, workPerItemM, workPerItemN, vectorM, n, k, stages);
    }

    /** Local memory of the input and kernel tiles (each stage) and the per-row table, in bytes (the tap
     *  table adds to it). */
    public long localMemoryBytes() {
        return 4L * (stages * ((long) tileK * (tileM + vectorM) + (long) tileK * tileN) + 4L * tileM);
    }

    @Override
    public String toString() {
        return tileM + "x" + tileN + "x" + tileK + "/" + workPerItemM + "x" + workPerItemN + " v" + vectorM + "."
                + vectorN + "." + vectorK + (stages == 2 ? " db" : "");
    }
}
