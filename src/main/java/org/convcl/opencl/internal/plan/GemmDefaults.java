package org.convcl.opencl.internal.plan;

import org.convcl.ConvGeometry;

/**
 * The GEMM's untuned tilings ({@link GemmVariant#untuned}), after the shape of CLBlast's per-vendor databases: GPUs
 * get large tiles, wide register blocks, 4-wide vectors and double-buffered tiles (NVIDIA: 128-row tiles, 8x8 or
 * 8x4 blocks on 256 work-items, as CLBlast's tuned entries for recent NVIDIA parts have); a CPU (PoCL) gets one
 * work-item per group with 16-wide vectors along the output channels, which its compiler maps onto SIMD registers.
 * In TF32 on a GPU with tensor cores, warp-level mma tilings ({@link #mma}). The GPU values are educated defaults
 * until {@code convcl tune} has run on the device. Stateless.
 */
public final class GemmDefaults {
    private GemmDefaults() {
    }

    /** The register-blocked FMA tiling for {@code g} on a device of {@code deviceClass} with these limits. */
    public static Tiling fma(ConvGeometry g, DeviceClass deviceClass, long maxWorkGroup, long localMemoryBytes) {
        int coutPerGroup = g.outChannelsPerGroup();
        // K tiles inside one tap (channel vectors) whenever the channels allow it.
        int kTile = g.inChannelsPerGroup() % 16 == 0 ? 16 : 8;
        Tiling tiling;
        if (deviceClass == DeviceClass.CPU) {
            // One work-item per group: PoCL runs it as plain code, 8 rows x (tileN / 16) SIMD registers of
            // accumulators, no barrier overhead between work-items (measured best on PoCL, AVX-512).
            int tileN = coutPerGroup >= 32 ? 32 : coutPerGroup >= 16 ? 16 : coutPerGroup >= 8 ? 8 : 4;
            int cinPerGroup = g.inChannelsPerGroup();
            int tileK = cinPerGroup % 32 == 0 ? 32 : cinPerGroup % 16 == 0 ? 16 : 8;
            tiling = new Tiling(8, tileN, tileK, 8, tileN, 1, Math.min(16, tileN), 8);
        } else if (coutPerGroup >= 128) {
            tiling = new Tiling(128, 128, kTile, 8, 8, 4, 4, 4, 2);
        } else if (coutPerGroup >= 64) {
            tiling = new Tiling(128, 64, kTile, 8, 4, 4, 4, 4, 2);
        } else if (coutPerGroup >= 32) {
            tiling = new Tiling(128, 32, kTile, 8, 2, 4, 2, 4, 2);
        } else {
            tiling = new Tiling(64, 16, kTile, 4, 1, 4, 1, 4, 2);
        }
        // Fill the device: with few rows, smaller row tiles give more work-groups.
        long rows = (long) Math.max(1, g.batch()) * g.outputSpatialSize();
        while (deviceClass != DeviceClass.CPU && tiling.tileM() > 32 && rows / tiling.tileM() < 512) {
            tiling = tiling.withTileM(tiling.tileM() / 2);
        }
        return shrunkToFit(tiling, maxWorkGroup, localMemoryBytes - tapTableBytes(g)).fittedTo(g);
    }

    /**
     * The tensor-core default for TF32, float16 and bfloat16 on NVIDIA GPUs of compute capability 8.0 and later: 256
     * work-items in 8 warps, warp tiles of 64 x 32 (8 x 8 per lane, 2 x 4 products of 16 x 8 per mma step) down to
     * 32 x 8 for few channels, double-buffered, the shapes CUTLASS's SM80 TF32 kernels use for their warps. K tiles
     * of 16, or 8 in TF32 when the channels are no multiple of 16 (16-bit operands take k in steps of 16).
     */
    public static Tiling mma(ConvGeometry g, long maxWorkGroup, long localMemoryBytes) {
        int coutPerGroup = g.outChannelsPerGroup();
        int kTile = g.inChannelsPerGroup() % 16 == 0 ? 16 : GemmLaunch.mmaK(g);
        Tiling tiling;
        if (coutPerGroup >= 128) {
            tiling = new Tiling(128, 128, kTile, 8, 8, 1, 4, 4, 2, true);
        } else if (coutPerGroup >= 64) {
            tiling = new Tiling(128, 64, kTile, 8, 4, 1, 4, 4, 2, true);
        } else if (coutPerGroup >= 32) {
            tiling = new Tiling(128, 32, kTile, 4, 4, 1, 4, 4, 2, true);
        } else {
            tiling = new Tiling(64, 16, kTile, 4, 2, 1, 2, 4, 2, true);
        }
        long rows = (long) Math.max(1, g.batch()) * g.outputSpatialSize();
        while (tiling.tileM() / 2 >= 32 && (tiling.tileM() / 2) % tiling.rowUnit() == 0
                && rows / tiling.tileM() < 512) {
            tiling = tiling.withTileM(tiling.tileM() / 2);
        }
        return shrunkToFit(tiling, maxWorkGroup, localMemoryBytes - tapTableBytes(g)).fittedTo(g);
    }

    /** The per-phase tap table, which shares local memory with the tiles whatever their size. */
    private static long tapTableBytes(ConvGeometry g) {
        return 4L * 4 * PhaseDecomposition.maxTaps(PhaseDecomposition.of(g));
    }

    /**
     * {@code tiling} made small enough for a device's work-group and local-memory limits (small GPUs, drivers
     * with small work-group limits). What goes first is what costs least: row tiles down to 32 rows, then
     * double buffering, then column tiles, then row tiles down to one work-item's rows. A tiling that still
     * does not fit is returned as it is and the default falls back to the general kernel.
     */
    static Tiling shrunkToFit(Tiling tiling, long maxWorkGroup, long localMemoryBytes) {
        Tiling t = tiling;
        while (t.workGroupSize() > maxWorkGroup || t.localMemoryBytes() > localMemoryBytes) {
            if (t.tileM() > 32 && t.tileM() % (2 * t.rowUnit()) == 0) {
                t = t.withTileM(t.tileM() / 2);
            } else if (t.stages() == 2) {
                t = t.withStages(1);
            } else if (t.tileN() % (2 * t.columnUnit()) == 0) {
                t = t.withTileN(t.tileN() / 2);
            } else if (t.tileM() % (2 * t.rowUnit()) == 0) {
                t = t.withTileM(t.tileM() / 2);
            } else {
                return t;
            }
        }
        return t;
    }
}
