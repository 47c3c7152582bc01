package org.convcl.opencl.internal.plan;

import java.util.List;
import java.util.Locale;
import org.convcl.ConvGeometry;

/**
 * One code path of a forward variant, as {@code convcl devices --check} reports it and the probes prove it
 * ({@code probe.ProvenVariants}): a variant has one ({@link #portable}) or several ({@link ForwardVariant#codePaths}:
 * the GEMM's FMA and mma forms). The probes and the check find every path through {@link ForwardVariants#codePaths},
 * and each path's small case through {@link ForwardVariant#probe}.
 *
 * @param variant         the variant whose plans run this path
 * @param name            its key in the probe verdicts on disk ({@code MMA_TENSOR_CORES}): kept once shipped, since a
 *                        renamed path is probed again
 * @param label           its name in messages and in {@code devices --check}: {@code mma (tensor cores)}
 * @param provenBeforeUse whether a call may use it only after its probe passed on the device: a path that is not
 *                        portable OpenCL C 1.2 run in CI (inline PTX), or that only a tuning database reaches
 * @param absentBecause   what {@code devices --check} says when the device gets no probe case for it
 */
public record CodePath(ForwardVariant<?> variant, String name, String label, boolean provenBeforeUse,
        String absentBecause) {
    /** Why a portable path is not checked on a device: its probe case's config does not fit. */
    static final String BLOCKING_DOES_NOT_FIT = "not on this device (its blocking does not fit the device's limits)";

    /** The one path of a variant whose kernel is portable OpenCL C: named and labelled like the variant. */
    public static CodePath portable(ForwardVariant<?> variant) {
        return new CodePath(variant, variant.name().toUpperCase(Locale.ROOT), variant.name(), false,
                BLOCKING_DOES_NOT_FIT);
    }

    /** The files of the program this path runs, in compilation order; probe verdicts are keyed by them too. */
    public List<String> sources() {
        return variant.sources();
    }

    /** The label, as messages name the path. */
    @Override
    public String toString() {
        return label;
    }

    /**
     * The small case that proves a path on a device: a geometry it computes (a few thousand outputs, crossing tiles
     * and edges) and the config a call would use for it there.
     *
     * @param geometry the case's geometry
     * @param config   the config its plan is built with
     */
    public record Probe(ConvGeometry geometry, KernelConfig config) {
    }
}
