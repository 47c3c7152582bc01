package org.convcl.opencl.internal.plan;

import java.util.ArrayList;
import java.util.List;
import org.convcl.ConvGeometry;
import org.convcl.opencl.device.OpenClDevice;

/**
 * The tilings the tuner tries for the GEMM kernel ({@link GemmVariant#candidates}), sampled from as CLBlast samples
 * its parameter space: many work-items with moderate register blocks and 4-wide vectors on a GPU (warp tiles of
 * tensor-core mma in TF32 on a GPU that has them); few work-items with wide SIMD vectors on a CPU. Each fits the
 * device's work-group and local-memory limits. Stateless.
 */
final class GemmTilings {
    private GemmTilings() {
    }

    /** GPU blockings: 64 to 512 work-items, register blocks up to 8x8, tiles no wider than the channels,
     *  single or double buffered. */
    static List<Tiling> gpu(ConvGeometry g, OpenClDevice device) {
        int widestN = Math.max(16, Integer.highestOneBit(Math.max(1, g.outChannelsPerGroup() * 2 - 1)));
        List<Tiling> tilings = new ArrayList<>();
        for (int tileM : new int[] {32, 64, 128}) {
            for (int tileN : new int[] {16, 32, 64, 128}) {
                if (tileN > widestN) {
                    continue;
                }
                for (int tileK : new int[] {8, 16, 32}) {
                    for (int workM : new int[] {2, 4, 8}) {
                        for (int workN : new int[] {1, 2, 4, 8}) {
                            if (tileM % workM != 0 || tileN % workN != 0 || workM * workN > 64) {
                                continue;
                            }
                            int items = (tileM / workM) * (tileN / workN);
                            if (items < 64 || items > 512 || items > device.maxWorkGroupSize()) {
                                continue;
                            }
                            for (int vectorM : new int[] {1, 4}) {
                                for (int vectorN : new int[] {1, 2, 4}) {
                                    if (workM % vectorM != 0 || workN % vectorN != 0) {
                                        continue;
                                    }
                                    for (int vectorK : new int[] {1, 4}) {
                                        for (int stages : new int[] {1, 2}) {
                                            Tiling tiling = new Tiling(tileM, tileN, tileK, workM, workN, vectorM,
                                                    vectorN, vectorK, stages);
                                            if (tiling.localMemoryBytes() <= device.localMemoryBytes()) {
                                                tilings.add(tiling);
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return tilings;
    }

    /** Warp tiles (rows x columns of one warp's block) the tensor-core space tries, as register blocks 8 x 4 lanes own. */
    private static final int[][] WARP_TILES = {{16, 8}, {32, 8}, {32, 16}, {32, 32}, {64, 16}, {64, 32}};

    /**
     * Tensor-core blockings for TF32, float16 and bfloat16: warp tiles from 16 x 8 to 64 x 32, 2 to 16 warps per
     * work-group, K tiles of 8 (TF32 only) to 32, single or double buffered.
     */
    static List<Tiling> mma(ConvGeometry g, OpenClDevice device) {
        int widestN = Math.max(16, Integer.highestOneBit(Math.max(1, g.outChannelsPerGroup() * 2 - 1)));
        List<Tiling> tilings = new ArrayList<>();
        for (int[] warp : WARP_TILES) {
            int workM = warp[0] / 8;
            int workN = warp[1] / 4;
            for (int tileM : new int[] {32, 64, 128, 256}) {
                for (int tileN : new int[] {16, 32, 64, 128}) {
                    if (tileN > widestN || tileM % warp[0] != 0 || tileN % warp[1] != 0) {
                        continue;
                    }
                    int items = (tileM / workM) * (tileN / workN);
                    if (items < 64 || items > 512 || items > device.maxWorkGroupSize()) {
                        continue;
                    }
                    for (int tileK : new int[] {8, 16, 32}) {
                        if (tileK % GemmLaunch.mmaK(g) != 0) {
                            continue;
                        }
                        for (int vectorN : new int[] {1, 2, 4}) {
                            if (workN % vectorN != 0) {
                                continue;
                            }
                            for (int vectorK : new int[] {1, 4}) {
                                for (int stages : new int[] {1, 2}) {
                                    Tiling tiling = new Tiling(tileM, tileN, tileK, workM, workN, 1, vectorN, vectorK,
                                            stages, true);
                                    if (tiling.localMemoryBytes() <= device.localMemoryBytes()) {
                                        tilings.add(tiling);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return tilings;
    }

    /** CPU blockings: one or two work-items per group, rows of wide SIMD accumulators. */
    static List<Tiling> cpu(ConvGeometry g) {
        int widestN = Math.max(8, Integer.highestOneBit(Math.max(1, g.outChannelsPerGroup() * 2 - 1)));
        List<Tiling> tilings = new ArrayList<>();
        for (int workM : new int[] {4, 8, 16}) {
            for (int itemsM : new int[] {1, 2}) {
                for (int tileN : new int[] {8, 16, 32, 64}) {
                    if (tileN > widestN || workM * tileN > 512) {
                        continue;
                    }
                    for (int tileK : new int[] {8, 16, 32}) {
                        for (int vectorK : new int[] {1, 8}) {
                            tilings.add(new Tiling(workM * itemsM, tileN, tileK, workM, tileN, 1, Math.min(16, tileN),
                                    vectorK));
                        }
                    }
                }
            }
        }
        return tilings;
    }
}
