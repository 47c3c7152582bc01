package org.convcl.opencl.internal.plan;

import java.util.List;
import java.util.Map;
import java.util.Optional;
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
     * the device cannot run it. The store applies {@code epilogue} ({@link EpilogueShape#sources} and
     * {@link EpilogueShape#options} around the variant's own files and options; {@link EpilogueShape#NONE}: none).
     */
    ForwardKernel compile(OpenClContext context, ConvGeometry g, boolean hasBias, EpilogueShape epilogue, C config);

    /**
     * Every legal config the tuner may try for {@code g} on {@code device} (fitted to the geometry; unordered; the
     * caller drops those that do not {@link #fits fit}): from the GPU space, or the CPU one when {@code gpu} is false.
     */
    List<C> candidates(ConvGeometry g, OpenClDevice device, boolean gpu);

    /** The config's fields in the tuning database's JSON, without {@code "kernel"} (which is {@link #name}). */
    Map<String, Object> toJson(C config);

    /**
     * The config {@code json} describes (its {@code "kernel"} is {@link #name}); IllegalArgumentException when
     * invalid.
     */
    C fromJson(Map<?, ?> json);

    /**
     * The config a plan of {@code g} on {@code device} uses when neither the caller nor a tuning database chose one:
     * this variant's default for the device's class ({@link DeviceClass}), shrunk to the device's limits; empty when
     * the variant does not {@link #supports support} {@code g} or its default does not {@link #fits fit} the device
     * (the general kernel serves then: {@link ForwardVariants#untuned}). With {@code portableOnly}, no code path that
     * must be {@link CodePath#provenBeforeUse proven before use} (what a call runs when that path's probe failed).
     */
    Optional<C> untuned(ConvGeometry g, OpenClDevice device, boolean portableOnly);

    /**
     * The code paths this variant's plans run, each checked by {@code convcl devices --check} and, when it must be
     * proven before use, probed before it serves a call: one unless the kernel has several forms (the GEMM's mma).
     */
    default List<CodePath> codePaths() {
        return List.of(CodePath.portable(this));
    }

    /**
     * The code path (one of {@link #codePaths}) a plan of {@code config} for {@code g} runs on a device with
     * ({@code tensorCores}) or without tensor cores (NVIDIA compute capability 8.0 and later: TF32, float16 and
     * bfloat16 mma); the geometry's storage type can choose among a variant's forms.
     */
    default CodePath codePath(C config, ConvGeometry g, boolean tensorCores) {
        return codePaths().get(0);
    }

    /**
     * The small case that proves {@code path} (one of {@link #codePaths}) on {@code device}, or empty when the device
     * does not run that path (another form of the kernel is the device's, or the config does not fit).
     */
    Optional<CodePath.Probe> probe(CodePath path, OpenClDevice device);
}
