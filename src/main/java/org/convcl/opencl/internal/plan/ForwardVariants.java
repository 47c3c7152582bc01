package org.convcl.opencl.internal.plan;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.convcl.ConvGeometry;
import org.convcl.opencl.device.OpenClDevice;
import org.convcl.opencl.internal.runtime.OpenClContext;

/**
 * Every forward kernel variant, and the calls that pick one by its config or name so that no caller tests config
 * types: plans ({@link ConvPlan#create}), fit checks and defaults ({@code tuning.DefaultConfigs}), the tuner's
 * candidates ({@code tuning.TuningCandidates}), the tuning database's JSON ({@code tuning.KernelConfigJson}) and
 * the code paths that {@code convcl devices --check} and the probes run ({@code probe.ProbeCase}). Stateless.
 */
public final class ForwardVariants {
    /**
     * The variants, one per config type, from the most general to the most specialised: the first computes every
     * geometry, and a geometry's default comes from the last one that computes it ({@link #untuned}). A new variant
     * is added here, after the variants whose geometries it specialises.
     */
    public static final List<ForwardVariant<?>> ALL = List.of(GeneralVariant.INSTANCE, GemmVariant.INSTANCE,
            DepthwiseVariant.INSTANCE);

    private ForwardVariants() {
    }

    /** The variant that compiles {@code config}. */
    public static ForwardVariant<?> of(KernelConfig config) {
        for (ForwardVariant<?> variant : ALL) {
            if (variant.configType().isInstance(config)) {
                return variant;
            }
        }
        throw new IllegalArgumentException("config: " + config + " (" + (config == null ? "null" : config.getClass())
                + ") is compiled by no forward variant; each KernelConfig type needs one in ForwardVariants.ALL");
    }

    /** The variant whose {@link ForwardVariant#name} is {@code name}; IllegalArgumentException if none. */
    public static ForwardVariant<?> named(Object name) {
        for (ForwardVariant<?> variant : ALL) {
            if (variant.name().equals(name)) {
                return variant;
            }
        }
        throw new IllegalArgumentException("config: unknown kernel " + name);
    }

    /** {@link ForwardVariant#fits} of {@code config}'s variant. */
    public static boolean fits(KernelConfig config, ConvGeometry g, OpenClDevice device) {
        return fits(of(config), config, g, device);
    }

    /** {@link ForwardVariant#candidates} of the variant {@code config} is a config of. */
    public static List<KernelConfig> candidatesLike(KernelConfig config, ConvGeometry g, OpenClDevice device,
            boolean gpu) {
        return new ArrayList<>(of(config).candidates(g, device, gpu));
    }

    /** The config's JSON object: {@code "kernel"} (the variant's name) first, then its fields. */
    public static Map<String, Object> toJson(KernelConfig config) {
        ForwardVariant<?> variant = of(config);
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("kernel", variant.name());
        json.putAll(toJson(variant, config));
        return json;
    }

    /** The config a JSON object of {@link #toJson} describes; IllegalArgumentException when it is malformed. */
    public static KernelConfig fromJson(Map<?, ?> json) {
        return named(json.get("kernel")).fromJson(json);
    }

    /**
     * The default config for {@code g} on {@code device} ({@link ForwardVariant#untuned}): the most specialised
     * variant that computes {@code g} decides; when its default does not fit the device, the general kernel's.
     */
    public static KernelConfig untuned(ConvGeometry g, OpenClDevice device, boolean portableOnly) {
        ForwardVariant<?> general = ALL.get(0);
        ForwardVariant<?> decides = general;
        for (ForwardVariant<?> variant : ALL) {
            if (variant.supports(g)) {
                decides = variant;
            }
        }
        return untunedOf(decides, g, device, portableOnly).or(() -> untunedOf(general, g, device, portableOnly))
                .orElseThrow(() -> new IllegalStateException("variant " + general.name() + " gives no default for "
                        + g + "; the first of ForwardVariants.ALL must give one for every geometry"));
    }

    /** Every code path, for {@code devices --check} and the probes: the portable ones first, each in ALL's order. */
    public static List<CodePath> codePaths() {
        List<CodePath> paths = new ArrayList<>();
        for (boolean proven : new boolean[] {false, true}) {
            for (ForwardVariant<?> variant : ALL) {
                for (CodePath path : variant.codePaths()) {
                    if (path.provenBeforeUse() == proven) {
                        paths.add(path);
                    }
                }
            }
        }
        return paths;
    }

    /** {@link ForwardVariant#codePath} of {@code config}'s variant. */
    public static CodePath codePath(KernelConfig config, ConvGeometry g, boolean tensorCores) {
        return codePath(of(config), config, g, tensorCores);
    }

    /** {@link ForwardVariant#compile} of {@code config}'s variant. */
    static ForwardKernel compile(OpenClContext context, ConvGeometry g, boolean hasBias, EpilogueShape epilogue,
            KernelConfig config) {
        return compile(of(config), context, g, hasBias, epilogue, config);
    }

    // Each helper below names the variant's config type C, so that the config is cast to it once, checked.

    private static <C extends KernelConfig> boolean fits(ForwardVariant<C> variant, KernelConfig config,
            ConvGeometry g, OpenClDevice device) {
        return variant.fits(variant.configType().cast(config), g, device);
    }

    private static <C extends KernelConfig> Map<String, Object> toJson(ForwardVariant<C> variant,
            KernelConfig config) {
        return variant.toJson(variant.configType().cast(config));
    }

    private static Optional<KernelConfig> untunedOf(ForwardVariant<?> variant, ConvGeometry g, OpenClDevice device,
            boolean portableOnly) {
        return variant.untuned(g, device, portableOnly).map(KernelConfig.class::cast);
    }

    private static <C extends KernelConfig> CodePath codePath(ForwardVariant<C> variant, KernelConfig config,
            ConvGeometry g, boolean tensorCores) {
        return variant.codePath(variant.configType().cast(config), g, tensorCores);
    }

    private static <C extends KernelConfig> ForwardKernel compile(ForwardVariant<C> variant, OpenClContext context,
            ConvGeometry g, boolean hasBias, EpilogueShape epilogue, KernelConfig config) {
        return variant.compile(context, g, hasBias, epilogue, variant.configType().cast(config));
    }
}
