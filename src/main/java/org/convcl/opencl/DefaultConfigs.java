package org.convcl.opencl;

import org.convcl.ConvGeometry;

/**
 * The kernel config a plan uses when nobody (no tuner, no caller) chose one: the GEMM kernel for ranks 1 to
 * 3 with a blocking sized to the problem and the device's limits, the general kernel otherwise. These are
 * reasonable, not tuned, values; a tuner's database takes precedence later.
 */
public final class DefaultConfigs {
    /** The most work-groups OpenCL drivers on CUDA hardware accept along the second dimension. */
    static final long MAX_GROUPS_DIM1 = 65535;

    private DefaultConfigs() {
    }

    /** The config for {@code g} on {@code device}. */
    public static KernelConfig choose(ConvGeometry g, OpenClDevice device) {
        long maxWorkGroup = Math.max(1, device.maxWorkGroupSize());
        if (g.rank() > 3) {
            return new KernelConfig.General((int) Math.min(64, maxWorkGroup));
        }
        Tiling tiling = gemmTiling(g, maxWorkGroup, device.localMemoryBytes());
        long columnGroups = (long) ceilDiv(g.outChannelsPerGroup(), tiling.tileN()) * g.groups();
        if (columnGroups > MAX_GROUPS_DIM1) {
            return new KernelConfig.General((int) Math.min(64, maxWorkGroup));
        }
        return new KernelConfig.Gemm(tiling);
    }

    static Tiling gemmTiling(ConvGeometry g, long maxWorkGroup, long localMemoryBytes) {
        long rows = (long) Math.max(1, g.batch()) * g.outputSpatialSize();
        int tileN = clamp(nextPowerOfTwo(g.outChannelsPerGroup()), 4, 64);
        int workN = Math.min(4, tileN);
        int tileM = rows >= 4096 ? 64 : rows >= 256 ? 32 : 16;
        int workM = 4;
        int tileK = g.inChannelsPerGroup() * g.kernelTaps() >= 32 ? 16 : 8;
        Tiling tiling = new Tiling(tileM, tileN, tileK, workM, workN);
        // Shrink until the device can run it (tiny devices and drivers with small work-group limits).
        while ((tiling.workGroupSize() > maxWorkGroup || tiling.localMemoryBytes() > localMemoryBytes)
                && tiling.tileM() > tiling.workPerItemM()) {
            tiling = new Tiling(tiling.tileM() / 2, tiling.tileN(), tiling.tileK(), tiling.workPerItemM(),
                    tiling.workPerItemN());
        }
        while ((tiling.workGroupSize() > maxWorkGroup || tiling.localMemoryBytes() > localMemoryBytes)
                && tiling.tileN() > tiling.workPerItemN()) {
            tiling = new Tiling(tiling.tileM(), tiling.tileN() / 2, tiling.tileK(), tiling.workPerItemM(),
                    tiling.workPerItemN());
        }
        return tiling;
    }

    static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    private static int nextPowerOfTwo(int value) {
        int power = 1;
        while (power < value && power < (1 << 30)) {
            power <<= 1;
        }
        return power;
    }

    private static int clamp(int value, int low, int high) {
        return Math.max(low, Math.min(high, value));
    }
}
