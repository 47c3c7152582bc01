package org.convcl.opencl.internal.tuning;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.convcl.ConvGeometry;
import org.convcl.opencl.device.OpenClDevice;
import org.convcl.opencl.internal.runtime.ProgramBinaryCache;
import org.convcl.opencl.internal.plan.ForwardVariants;
import org.convcl.opencl.internal.plan.KernelConfig;
import org.convcl.opencl.internal.plan.PlanKey;

/**
 * The kernel config a plan uses when the caller chose none: the tuner's choice for this device and geometry
 * when its database has one ({@link TuningDatabase}), else a default for the device's class that is good
 * when untuned, which each variant gives for the geometries it computes ({@code ForwardVariant#untuned}; the
 * GEMM's in {@code GemmDefaults}). The GPU values are educated defaults until {@code convcl tune} has run on the
 * device.
 */
public final class DefaultConfigs {
    private static final int MAX_MEMOISED = 4096;
    private static final Map<String, KernelConfig> CHOSEN = new ConcurrentHashMap<>();

    private DefaultConfigs() {
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

    /**
     * The per-device-class default for {@code g}: the most specialised variant's that computes it, else the general
     * kernel's ({@link ForwardVariants#untuned}).
     */
    public static KernelConfig untuned(ConvGeometry g, OpenClDevice device) {
        return ForwardVariants.untuned(g, device, false);
    }

    /**
     * The default for {@code g} without the code paths that must be proven before use (the warp-level mma): what a
     * call runs when such a path is disabled on the device (its probe failed: {@code probe.ProvenVariants}): the
     * register-blocked FMA GEMM, in TF32 with operands rounded as they are staged, or the general kernel.
     */
    public static KernelConfig portable(ConvGeometry g, OpenClDevice device) {
        return ForwardVariants.untuned(g, device, true);
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
