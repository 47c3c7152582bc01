package org.convcl.opencl.internal.tuning;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.convcl.ConvGeometry;
import org.convcl.Precision;
import org.convcl.opencl.device.OpenClDevice;
import org.convcl.opencl.internal.plan.KernelConfig;
import org.convcl.opencl.internal.plan.Tiling;
import org.convcl.opencl.internal.runtime.ComputeCapability;

/**
 * The configs the tuner tries for one geometry on one device: the untuned default first, then a
 * reproducible sample (seeded by the geometry) of every legal config of the kernel the geometry uses, as
 * CLBlast samples its parameter space. The space depends on the device's type: many work-items with
 * moderate register blocks and 4-wide vectors on a GPU (warp tiles of tensor-core mma in TF32 on a GPU that has
 * them); few work-items with wide SIMD vectors on a CPU.
 * Every candidate fits the device's limits; duplicates (after vector widths are fitted to the geometry)
 * are dropped.
 */
public final class TuningCandidates {
    private TuningCandidates() {
    }

    /** At most {@code budget} candidates (at least the default), default first. */
    public static List<KernelConfig> of(ConvGeometry g, OpenClDevice device, int budget) {
        return of(g, device, budget, device.isGpuOrAccelerator());
    }

    /** As {@link #of(ConvGeometry, OpenClDevice, int)} from the GPU or the CPU space (tests use both). */
    public static List<KernelConfig> of(ConvGeometry g, OpenClDevice device, int budget, boolean gpuSpace) {
        if (budget < 1) {
            throw new IllegalArgumentException("budget: got " + budget + "; at least one config must be tried");
        }
        KernelConfig untuned = DefaultConfigs.untuned(g, device);
        List<KernelConfig> space = new ArrayList<>(space(g, device, untuned, gpuSpace));
        Collections.shuffle(space, new Random(g.toString().hashCode()));
        Set<KernelConfig> chosen = new LinkedHashSet<>();
        chosen.add(untuned);
        for (KernelConfig candidate : space) {
            if (chosen.size() >= budget) {
                break;
            }
            if (DefaultConfigs.fits(candidate, g, device)) {
                chosen.add(candidate);
            }
        }
        return List.copyOf(chosen);
    }

    /** Every legal config of the kind {@code untuned} is (fitted; unordered). */
    public static List<KernelConfig> space(ConvGeometry g, OpenClDevice device, KernelConfig untuned, boolean gpu) {
        Set<KernelConfig> space = new LinkedHashSet<>();
        if (untuned instanceof KernelConfig.Gemm) {
            boolean mma = gpu && g.productPrecision() == Precision.TF32 && ComputeCapability.hasTf32TensorCores(device);
            for (Tiling tiling : mma ? mmaTilings(g, device) : gpu ? gpuTilings(g, device) : cpuTilings(g)) {
                space.add(new KernelConfig.Gemm(tiling.fittedTo(g)));
            }
        } else if (untuned instanceof KernelConfig.Depthwise) {
            int[] groups = gpu ? new int[] {32, 64, 128, 256} : new int[] {1, 4, 16, 64};
            for (int vector : new int[] {1, 2, 4, 8, 16}) {
                for (int outputs : new int[] {1, 2, 4, 8}) {
                    for (int group : groups) {
                        if (group <= device.maxWorkGroupSize() && g.outChannels() % vector == 0) {
                            space.add(new KernelConfig.Depthwise(vector, outputs, group));
                        }
                    }
                }
            }
        } else {
            for (int group : new int[] {16, 32, 64, 128, 256}) {
                if (group <= device.maxWorkGroupSize()) {
                    space.add(new KernelConfig.General(group));
                }
            }
        }
        return new ArrayList<>(space);
    }

    /** GPU blockings: 64 to 512 work-items, register blocks up to 8x8, tiles no wider than the channels,
     *  single or double buffered. */
    private static List<Tiling> gpuTilings(ConvGeometry g, OpenClDevice device) {
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
     * Tensor-core blockings for TF32: warp tiles from 16 x 8 to 64 x 32, 2 to 16 warps per work-group, K tiles
     * of 8 to 32, single or double buffered.
     */
    private static List<Tiling> mmaTilings(ConvGeometry g, OpenClDevice device) {
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
    private static List<Tiling> cpuTilings(ConvGeometry g) {
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
