package org.convcl.opencl.internal.tuning;

import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.convcl.ConvGeometry;
import org.convcl.Precision;
import org.convcl.opencl.device.OpenClDevice;
import org.convcl.opencl.internal.runtime.ProgramBinaryCache;
import org.convcl.opencl.internal.plan.DepthwiseVariant;
import org.convcl.opencl.internal.plan.ForwardVariants;
import org.convcl.opencl.internal.plan.GemmVariant;
import org.convcl.opencl.internal.plan.KernelConfig;
import org.convcl.opencl.internal.plan.PhaseDecomposition;
import org.convcl.opencl.internal.plan.PlanKey;
import org.convcl.opencl.internal.plan.Tiling;
import org.convcl.opencl.internal.runtime.ComputeCapability;

/**
 * The kernel config a plan uses when the caller chose none: the tuner's choice for this device and geometry
 * when its database has one ({@link TuningDatabase}), else a default for the device's class that is good
 * when untuned. Defaults follow the shape of CLBlast's per-vendor databases: GPUs get large tiles, wide
 * register blocks, 4-wide vectors and double-buffered tiles (NVIDIA: 128-row tiles, 8x8 or 8x4 blocks on
 * 256 work-items, as CLBlast's tuned entries for recent NVIDIA parts have); a CPU (PoCL) gets one work-item
 * per group with 16-wide vectors along the output channels, which its compiler maps onto SIMD registers.
 * In TF32 on a GPU with tensor cores, warp-level mma tilings ({@link #mmaTiling}). The GPU values are educated
 * defaults until {@code convcl tune} has run on the device.
 */
public final class DefaultConfigs {
    private static final int MAX_MEMOISED = 4096;
    private static final Map<String, KernelConfig> CHOSEN = new ConcurrentHashMap<>();

    private DefaultConfigs() {
    }

    /** The device classes whose defaults differ. */
    enum DeviceClass {
        NVIDIA_GPU, AMD_GPU, OTHER_GPU, CPU;

        static DeviceClass of(OpenClDevice device) {
            if (!device.isGpuOrAccelerator()) {
                return CPU;
            }
            String vendor = (device.vendor() + " " + device.platformName()).toLowerCase(Locale.ROOT);
            if (vendor.contains("nvidia")) {
                return NVIDIA_GPU;
            }
            if (vendor.contains("amd") || vendor.contains("advanced micro devices")) {
                return AMD_GPU;
            }
            return OTHER_GPU;
        }
    }

    /**
     * The config for {@code g} on {@code device}: the user's tuning database for this device and driver first,
     * then the results shipped for a device of this name ({@link PackagedTuning}), else the default.
     */
    public static KernelConfig choose(ConvGeometry g, OpenClDevice device) {
        // Memoised: every host call asks, and a lookup must not cost more than a small kernel's run.
        String key = device.index() + "\n" + device.name() + "\n" + ProgramBinaryCache.defaultRoot().orElse(null)
                + "\n" + TuningDatabase.generation() + "\n" + g.batch() + "\n" + PlanKey.shapeSignature(g);
        KernelConfig chosen = CHOSEN.get(key);
        if (chosen == null) {
            chosen = chooseNow(g, device);
            if (CHOSEN.size() >= MAX_MEMOISED) {
                CHOSEN.clear();
            }
            CHOSEN.put(key, chosen);
        }
        return chosen;
    }

    private static KernelConfig chooseNow(ConvGeometry g, OpenClDevice device) {
        Optional<KernelConfig> tuned = TuningDatabase.forDevice(device).lookup(g);
        if (tuned.isPresent() && fits(tuned.get(), g, device)) {
            return tuned.get();
        }
        Optional<KernelConfig> shipped = PackagedTuning.lookup(device.name(), g);
        if (shipped.isPresent() && fits(shipped.get(), g, device)) {
            return shipped.get();
        }
        return untuned(g, device);
    }

    /** The per-device-class default for {@code g}. */
    public static KernelConfig untuned(ConvGeometry g, OpenClDevice device) {
        return untuned(g, device, true);
    }

    /**
     * The default for {@code g} without the warp-level mma path: what a call runs when that path is disabled on
     * the device (its probe failed, {@code org.convcl.opencl.internal.probe}): the register-blocked FMA GEMM, in
     * TF32 with operands rounded as they are staged, or the general kernel.
     */
    public static KernelConfig portable(ConvGeometry g, OpenClDevice device) {
        return untuned(g, device, false);
    }

    private static KernelConfig untuned(ConvGeometry g, OpenClDevice device, boolean mmaAllowed) {
        DeviceClass deviceClass = DeviceClass.of(device);
        long maxWorkGroup = Math.max(1, device.maxWorkGroupSize());
        KernelConfig general = new KernelConfig.General((int) Math.min(64, maxWorkGroup));
        if (DepthwiseVariant.INSTANCE.supports(g)) {
            KernelConfig.Depthwise depthwise = depthwise(deviceClass, maxWorkGroup);
            return fits(depthwise, g, device) ? depthwise : general;
        }
        if (!GemmVariant.INSTANCE.supports(g)) {
            return general;
        }
        if (mmaAllowed && g.productPrecision() == Precision.TF32 && ComputeCapability.hasTf32TensorCores(device)) {
            KernelConfig.Gemm mma = new KernelConfig.Gemm(mmaTiling(g, maxWorkGroup, device.localMemoryBytes()));
            if (fits(mma, g, device)) {
                return mma;
            }
        }
        KernelConfig.Gemm gemm = new KernelConfig.Gemm(gemmTiling(g, deviceClass, maxWorkGroup,
                device.localMemoryBytes()));
        return fits(gemm, g, device) ? gemm : general;
    }

    static KernelConfig.Depthwise depthwise(DeviceClass deviceClass, long maxWorkGroup) {
        return switch (deviceClass) {
            // Neighbouring work-items take neighbouring 16-byte channel vectors; 4 outputs share a window.
            case NVIDIA_GPU, AMD_GPU, OTHER_GPU -> new KernelConfig.Depthwise(4, 4, (int) Math.min(128, maxWorkGroup));
            // One SIMD register of channels per work-item, a row of outputs per item for window reuse.
            case CPU -> new KernelConfig.Depthwise(16, 8, (int) Math.min(16, maxWorkGroup));
        };
    }

    static Tiling gemmTiling(ConvGeometry g, DeviceClass deviceClass, long maxWorkGroup, long localMemoryBytes) {
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
            tiling = withTileM(tiling, tiling.tileM() / 2);
        }
        // The per-phase tap table shares local memory with the tiles whatever their size.
        long tapTable = 4L * 4 * PhaseDecomposition.maxTaps(PhaseDecomposition.of(g));
        return shrunkToFit(tiling, maxWorkGroup, localMemoryBytes - tapTable).fittedTo(g);
    }

    /**
     * The tensor-core default for TF32 on NVIDIA GPUs of compute capability 8.0 and later: 256 work-items in 8
     * warps, warp tiles of 64 x 32 (8 x 8 per lane, 2 x 4 products of 16 x 8 per 8 k) down to 32 x 8 for few
     * channels, double-buffered, the shapes CUTLASS's SM80 TF32 kernels use for their warps.
     */
    public static Tiling mmaTiling(ConvGeometry g, long maxWorkGroup, long localMemoryBytes) {
        int coutPerGroup = g.outChannelsPerGroup();
        int kTile = g.inChannelsPerGroup() % 16 == 0 ? 16 : 8;
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
        while (tiling.tileM() / 2 >= 32 && (tiling.tileM() / 2) % tiling.rowUnit() == 0 && rows / tiling.tileM() < 512) {
            tiling = tiling.withTileM(tiling.tileM() / 2);
        }
        long tapTable = 4L * 4 * PhaseDecomposition.maxTaps(PhaseDecomposition.of(g));
        return shrunkToFit(tiling, maxWorkGroup, localMemoryBytes - tapTable).fittedTo(g);
    }

    /**
     * {@code tiling} made small enough for a device's work-group and local-memory limits (small GPUs, drivers
     * with small work-group limits). What goes first is what costs least: row tiles down to 32 rows, then
     * double buffering, then column tiles, then row tiles down to one work-item's rows. A tiling that still
     * does not fit is returned as it is and the caller falls back to the general kernel.
     */
    static Tiling shrunkToFit(Tiling tiling, long maxWorkGroup, long localMemoryBytes) {
        Tiling t = tiling;
        while (t.workGroupSize() > maxWorkGroup || t.localMemoryBytes() > localMemoryBytes) {
            if (t.tileM() > 32 && t.tileM() % (2 * t.rowUnit()) == 0) {
                t = withTileM(t, t.tileM() / 2);
            } else if (t.stages() == 2) {
                t = t.withStages(1);
            } else if (t.tileN() % (2 * t.columnUnit()) == 0) {
                t = t.withTileN(t.tileN() / 2);
            } else if (t.tileM() % (2 * t.rowUnit()) == 0) {
                t = withTileM(t, t.tileM() / 2);
            } else {
                return t;
            }
        }
        return t;
    }

    private static Tiling withTileM(Tiling t, int tileM) {
        return t.withTileM(tileM);
    }

    /**
     * Whether {@code config} can compute {@code g} on {@code device} within its limits, judged without
     * compiling (the compiled kernel's own limit is checked when the plan is built): its variant's
     * {@code ForwardVariant#fits}.
     */
    public static boolean fits(KernelConfig config, ConvGeometry g, OpenClDevice device) {
        return ForwardVariants.fits(config, g, device);
    }
}
