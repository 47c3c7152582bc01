package org.convcl.opencl;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.convcl.ConvGeometry;
import org.convcl.opencl.internal.plan.ConvPlan;
import org.convcl.opencl.internal.plan.EpilogueShape;
import org.convcl.opencl.internal.plan.KernelConfig;
import org.convcl.opencl.internal.plan.PlanKey;
import org.convcl.opencl.internal.probe.ProvenVariants;
import org.convcl.opencl.internal.runtime.OpenClContext;
import org.convcl.opencl.internal.tuning.DefaultConfigs;
import org.convcl.opencl.internal.tuning.TuningDatabase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which forward {@link ConvPlan} serves a call, and the plan itself from the backend's {@link PlanCache}: the
 * default config of a geometry (tuned, proven on this device, or the portable fallback), or an explicit one.
 * Thread-safe.
 */
final class ForwardPlans {
    private static final Logger LOG = LoggerFactory.getLogger(ForwardPlans.class);
    /** Bound on remembered call signatures; past it the memo starts over (the plans stay cached). */
    private static final int MAX_RESOLVED = 4096;

    private final OpenClContext context;
    private final PlanCache cache;
    private final Map<CallSignature, Resolved> resolved = new ConcurrentHashMap<>();

    ForwardPlans(OpenClContext context, PlanCache cache) {
        this.context = context;
        this.cache = cache;
    }

    /** The config found for a call, valid while the tuning databases have not changed; holds no plan. */
    private record Resolved(long tuningGeneration, PlanKey key, KernelConfig config) {
    }

    /**
     * The default plan of {@code g}, leased. Repeated calls find it by {@link CallSignature} alone, without
     * building strings or reading settings, until a tuning database changes. (A cache directory changed while
     * the backend is in use therefore applies to geometries it has not seen yet, or after the next tuning write.)
     */
    PlanCache.Lease<ConvPlan> defaultPlan(ConvGeometry g, boolean hasBias) {
        long generation = TuningDatabase.generation();
        CallSignature signature = CallSignature.of(g, hasBias);
        Resolved hit = resolved.get(signature);
        if (hit != null && hit.tuningGeneration() == generation) {
            return withConfig(g, hasBias, EpilogueShape.NONE, hit.key(), hit.config());
        }
        // The key is that of the config asked for: a plan's own config() is fitted to the geometry and may differ.
        KernelConfig config = ProvenVariants.admit(context, g, DefaultConfigs.choose(g, context.device()));
        PlanKey key = PlanKey.of(g, hasBias, config);
        PlanCache.Lease<ConvPlan> lease;
        try {
            lease = withConfig(g, hasBias, EpilogueShape.NONE, key, config);
        } catch (IllegalArgumentException e) {
            if (config instanceof KernelConfig.General) {
                throw e;
            }
            // The device cannot run this blocking (e.g. the compiled kernel's work-group limit is lower than
            // the device's); the general kernel runs anywhere.
            LOG.debug("{} on {}: {}; using the general kernel", g, context.device().name(), e.getMessage());
            config = new KernelConfig.General((int) Math.max(1, Math.min(64, context.device().maxWorkGroupSize())));
            key = PlanKey.of(g, hasBias, config);
            lease = withConfig(g, hasBias, EpilogueShape.NONE, key, config);
        }
        if (resolved.size() >= MAX_RESOLVED) {
            resolved.clear();
        }
        resolved.put(signature, new Resolved(generation, key, config));
        return lease;
    }

    /**
     * The default plan of {@code g} with {@code epilogue} fused into its store, leased: the config the plain plan of
     * {@code g} is asked for (remembered, or chosen as {@link #defaultPlan(ConvGeometry, boolean)} chooses it),
     * compiled with the epilogue under a key of its own, so that the plain plan stays as it is and is not built for
     * this call. When the device cannot run that config with the epilogue, the general kernel's.
     */
    PlanCache.Lease<ConvPlan> defaultPlan(ConvGeometry g, boolean hasBias, EpilogueShape epilogue) {
        if (epilogue.isNone()) {
            return defaultPlan(g, hasBias);
        }
        Resolved hit = resolved.get(CallSignature.of(g, hasBias));
        KernelConfig config = hit != null && hit.tuningGeneration() == TuningDatabase.generation() ? hit.config()
                : ProvenVariants.admit(context, g, DefaultConfigs.choose(g, context.device()));
        try {
            return withConfig(g, hasBias, epilogue, PlanKey.of(g, hasBias, epilogue, config), config);
        } catch (IllegalArgumentException e) {
            if (config instanceof KernelConfig.General) {
                throw e;
            }
            LOG.debug("{} with epilogue {} on {}: {}; using the general kernel", g, epilogue,
                    context.device().name(), e.getMessage());
            KernelConfig general = new KernelConfig.General((int) Math.max(1,
                    Math.min(64, context.device().maxWorkGroupSize())));
            return withConfig(g, hasBias, epilogue, PlanKey.of(g, hasBias, epilogue, general), general);
        }
    }

    /** The plan of {@code g} with {@code config}, leased; built on first use. */
    PlanCache.Lease<ConvPlan> withConfig(ConvGeometry g, boolean hasBias, KernelConfig config) {
        if (config == null) {
            throw new IllegalArgumentException("config: got null; expected a KernelConfig");
        }
        return withConfig(g, hasBias, EpilogueShape.NONE, PlanKey.of(g, hasBias, config), config);
    }

    /**
     * {@code plan} (handed out by this backend earlier) leased while it is cached; once evicted, the plan of the
     * same config, built again.
     */
    PlanCache.Lease<ConvPlan> same(ConvPlan plan, ConvGeometry g, boolean hasBias) {
        return cache.leaseOf(plan).orElseGet(() -> withConfig(g, hasBias, plan.epilogue(),
                PlanKey.of(g, hasBias, plan.epilogue(), plan.config()), plan.config()));
    }

    private PlanCache.Lease<ConvPlan> withConfig(ConvGeometry g, boolean hasBias, EpilogueShape epilogue, PlanKey key,
            KernelConfig config) {
        return cache.acquire(key, () -> {
            ConvPlan plan = ConvPlan.create(context, g, hasBias, epilogue, config);
            LOG.debug("planned {} on {}", plan, context.device().name());
            return plan;
        });
    }
}
