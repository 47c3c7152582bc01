package org.convcl.opencl;

/**
 * The blocking of the implicit-GEMM kernel: a work-group computes a {@code tileM x tileN} block of the
 * output (rows = output positions, columns = output channels of one group), walking the reduction in steps
 * of {@code tileK}; each work-item accumulates a {@code workPerItemM x workPerItemN} register block. The
 * work-group therefore has {@code (tileM / workPerItemM) x (tileN / workPerItemN)} work-items.
 *
 * <p>These are plan inputs, compiled in with {@code -D}: a tuner may pick any valid value per device.
 */
public record Tiling(int tileM, int tileN, int tileK, int workPerItemM, int workPerItemN) {
    public Tiling {
        check("tileM", tileM, 1024);
        check("tileN", tileN, 1024);
        check("tileK", tileK, 256);
        check("workPerItemM", workPerItemM, 64);
        check("workPerItemN", workPerItemN, 64);
        if (tileM % workPerItemM != 0) {
            throw new IllegalArgumentException("tiling: tileM " + tileM + " is not a multiple of workPerItemM "
                    + workPerItemM + "; each work-item must own whole rows");
        }
        if (tileN % workPerItemN != 0) {
            throw new IllegalArgumentException("tiling: tileN " + tileN + " is not a multiple of workPerItemN "
                    + workPerItemN + "; each work-item must own whole columns");
        }
    }

    private static void check(String name, int value, int max) {
        if (value < 1 || value > max) {
            throw new IllegalArgumentException("tiling: " + name + " is " + value + "; it must be in [1, " + max + "]");
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

    /** Local memory the kernel declares for this tiling, in bytes. */
    public long localMemoryBytes() {
        return 4L * ((long) tileK * (tileM + tileN) + 4L * tileM);
    }

    @Override
    public String toString() {
        return tileM + "x" + tileN + "x" + tileK + "/" + workPerItemM + "x" + workPerItemN;
    }
}
