package org.convcl.opencl.internal.probe;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.convcl.ConvGeometry;
import org.convcl.opencl.device.OpenClDevice;
import org.convcl.opencl.internal.runtime.KernelSources;
import org.convcl.opencl.internal.runtime.ProgramBinaryCache;
import org.convcl.opencl.internal.plan.CodePath;
import org.convcl.opencl.internal.plan.ForwardVariants;
import org.convcl.opencl.internal.plan.KernelConfig;
import org.convcl.opencl.internal.runtime.ComputeCapability;
import org.convcl.opencl.internal.runtime.OpenClContext;
import org.convcl.opencl.internal.tuning.DefaultConfigs;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gate in front of the variants that must be proven on a device before they serve a call
 * ({@link CodePath#provenBeforeUse()}): on a variant's first use on a device it runs the variant's
 * {@link ProbeCase} ({@link VariantProbe}); a variant that fails to build, fails to run or gives a wrong result is
 * disabled, with one WARN naming the device, the variant and the reason, and calls take the portable config
 * ({@link DefaultConfigs#portable}). The verdict holds for the device, its driver version and the kernel sources:
 * remembered for the process, and in the cache directory ({@link ProbeVerdicts}) when it is a lasting one
 * ({@link ProbeResult.Outcome#lasting()}), so the probe runs once. A failed run holds for this process only (a busy
 * device can cause it), and a probe case beyond the device's limits is no fault (logged at debug).
 *
 * <p>Thread-safe: one holder per verdict, so however many threads and backends ask at once, one of them probes and
 * the others wait for its verdict.
 */
public final class ProvenVariants {
    private static final Logger LOG = LoggerFactory.getLogger(ProvenVariants.class);
    /** This process's verdicts, by {@link #key}. */
    private static final Map<String, Once> VERDICTS = new ConcurrentHashMap<>();

    private ProvenVariants() {
    }

    /**
     * {@code chosen} when its variant may serve calls on {@code context}'s device (it needs no proof, or its probe
     * passed there), else the portable config for {@code g}. Probes the variant on its first use.
     */
    public static KernelConfig admit(OpenClContext context, ConvGeometry g, KernelConfig chosen) {
        if (!ForwardVariants.codePath(chosen, g, false).provenBeforeUse()
                && !ForwardVariants.codePath(chosen, g, true).provenBeforeUse()) {
            return chosen; // the common case, decided without asking the device anything
        }
        OpenClDevice device = context.device();
        CodePath variant = ForwardVariants.codePath(chosen, g, ComputeCapability.hasTf32TensorCores(device));
        if (!variant.provenBeforeUse() || proven(context, variant)) {
            return chosen;
        }
        return DefaultConfigs.portable(g, device);
    }

    /** Whether {@code variant} works on {@code context}'s device: remembered, or probed now on that context. */
    public static boolean proven(OpenClContext context, CodePath variant) {
        String key = key(context.device(), variant);
        return VERDICTS.computeIfAbsent(key, k -> new Once()).get(() -> decide(context, variant, key)).passed();
    }

    /**
     * Everything a verdict depends on: the device and its driver, the variant, and the kernel sources it is built
     * from (an edited kernel, or another convcl version, is proven again).
     */
    static String key(OpenClDevice device, CodePath variant) {
        StringBuilder sources = new StringBuilder();
        for (String file : variant.sources()) {
            sources.append(file).append(':').append(KernelSources.load(file).sha256()).append(' ');
        }
        return "device=" + device.name() + "; vendor=" + device.vendor() + "; driver=" + device.driverVersion()
                + "; platform=" + device.platformName() + " " + device.platformVersion() + "; variant=" + variant.name()
                + "; sources=" + KernelSources.sha256(sources.toString());
    }

    private static ProbeVerdicts.Verdict decide(OpenClContext context, CodePath variant, String key) {
        OpenClDevice device = context.device();
        ProbeVerdicts disk = new ProbeVerdicts(ProgramBinaryCache.defaultRoot().map(root -> root.resolve("probes"))
                .orElse(null));
        Optional<ProbeVerdicts.Verdict> remembered = disk.read(key, device.name());
        if (remembered.isPresent()) {
            LOG.debug("kernel variant {} on {}: {} (remembered in {})", variant, device.describe(),
                    remembered.get().passed() ? "proven" : "disabled, " + remembered.get().reason(),
                    disk.fileFor(key, device.name()).map(Path::toString).orElse("?"));
            return remembered.get();
        }
        long start = System.nanoTime();
        ProbeVerdicts.Verdict verdict = ProbeCase.of(variant, device)
                .map(probe -> VariantProbe.run(context, probe, 0))
                .map(result -> new ProbeVerdicts.Verdict(result.outcome(), result.failure()))
                .orElse(new ProbeVerdicts.Verdict(ProbeResult.Outcome.DOES_NOT_FIT,
                        "its probe case does not fit the device's limits"));
        switch (verdict.outcome()) {
            case PASSED -> {
                disk.write(key, device.name(), verdict);
                LOG.debug("kernel variant {} proven on {} in {} ms", variant, device.describe(),
                        (System.nanoTime() - start) / 1_000_000);
            }
            case BUILD_FAILED, WRONG_RESULT -> {
                Optional<Path> file = disk.write(key, device.name(), verdict);
                LOG.warn("kernel variant {} is disabled on OpenCL device {} (driver {}): {}; calls use the portable "
                        + "kernels instead. {} `convcl devices --check` tests every variant.", variant,
                        device.describe(), device.driverVersion(), verdict.reason(),
                        file.map(f -> "Remembered in " + f + " (delete it to probe again);")
                                .orElse("Not remembered on disk (no usable cache directory);"));
            }
            // A failed run may be the device's state, not its driver (out of resources while it is busy): this
            // process does without the variant, the next one probes it again.
            case RUN_FAILED -> LOG.warn("kernel variant {} is not used by this process on OpenCL device {} (driver "
                    + "{}): {}; calls use the portable kernels instead, and the next process probes it again. "
                    + "`convcl devices --check` tests every variant.", variant, device.describe(),
                    device.driverVersion(), verdict.reason());
            // A limit of the device, not a fault: nothing to warn about, and cheap to find again.
            case DOES_NOT_FIT -> LOG.debug("kernel variant {} is not used on {}: {}; calls use the portable kernels",
                    variant, device.describe(), verdict.reason());
        }
        return verdict;
    }

    /** A value computed once, by the first caller; the others wait for it. */
    private static final class Once {
        private ProbeVerdicts.Verdict value;

        synchronized ProbeVerdicts.Verdict get(Supplier<ProbeVerdicts.Verdict> compute) {
            if (value == null) {
                value = compute.get();
            }
            return value;
        }
    }
}
