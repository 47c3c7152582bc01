package org.convcl.opencl.internal.plan;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.convcl.ConvGeometry;
import org.convcl.opencl.device.OpenClDevice;
import org.convcl.opencl.internal.runtime.OpenClContext;

/**
 * One forward convolution kernel and everything about it, in one class, as CLBlast's routines own theirs: its
 * {@code .cl} files, its {@code -D} options and launch ({@link #compile}), which configs fit a device
 * ({@link #fits}), what the tuner tries ({@link #candidates}) and its form in the tuning database
 * ({@link #toJson}). Callers reach a variant through {@link ForwardVariants}, by config or by name; adding one is
 * a class, its {@code .cl} file and a line in {@link ForwardVariants#ALL} (docs/adding-a-kernel-variant.md).
 * Implementations are stateless singletons.
 *
 * @param <C> the config type whose plans this variant compiles
 */
public interface ForwardVariant<C extends KernelConfig> {

    /** The {@code "kernel"} value of the config's JSON form ({@code "gemm"}), unique among the variants. */
    String name();

    /** The config type this variant compiles; each config type has exactly one variant. */
    Class<C> configType();

    /** The files of the variant's program, in the order they are compiled: shared code first. */
    List<String> sources();

    /** Whether the kernel can compute {@code g} at all, whatever the config. */
    boolean supports(ConvGeometry g);

    /**
     * Whether {@code config} can compute {@code g} on {@code device} within its limits, judged without compiling
     * (the compiled kernel's own limit is checked by {@link #compile}).
     */
    boolean fits(C config, ConvGeometry g, OpenClDevice device);

    /**
     * Compiles (or fetches from the program cache) the kernel for {@code g} and {@code config} with its
     * {@code -D} options, and its launch shape; IllegalArgumentException, naming the config and the limit, when
     * the device cannot run it.
     */
    ForwardKernel compile(OpenClContext context, ConvGeometry g, boolean hasBias, C config);

    /**
     * Every legal config the tuner may try for {@code g} on {@code device} (fitted to the geometry; unordered; the
     * caller drops those that do not {@link #fits fit}): from the GPU space, or the CPU one when {@code gpu} is false.
     */
    List<C> candidates(ConvGeometry g, OpenClDevice device, boolean gpu);

    /** The config's fields in the tuning database's JSON, without {@code "kernel"} (which is {@link #name}). */
    Map<String, Object> toJson(C config);

    /** The config {@code json} describes (its {@code "kernel"} is {@link #name}); IllegalArgumentException when invalid. */
    C fromJson(Map<?, ?> json);

    /**
     * The code path a plan of {@code config} runs on a device with ({@code tensorCores}) or without TF32 tensor
     * cores, as {@code convcl devices --check} names it: the {@code probe.KernelVariant} constant's name. One path
     * per variant unless it has several (the GEMM's mma forms).
     */
    default String codePath(C config, boolean tensorCores) {
        return name().toUpperCase(Locale.ROOT);
    }
}
