package org.convcl.opencl.internal.probe;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.convcl.opencl.device.OpenClDevice;
import org.convcl.opencl.internal.plan.CodePath;
import org.convcl.opencl.internal.plan.ForwardVariants;
import org.convcl.opencl.internal.runtime.ProgramBinaryCache;
import org.convcl.opencl.internal.runtime.OpenClContext;

/**
 * Every kernel code path ({@link ForwardVariants#codePaths}) on one device, probed afresh
 * ({@code convcl devices --check}): built from source (no cached binary stands in for the compiler), run on its
 * {@link ProbeCase}, compared with the Java path and timed. Verdicts remembered by {@link ProvenVariants} are
 * neither read nor changed: this is the check a user runs to see what the device does now.
 */
public final class DeviceCheck {
    /** Timed runs per path after the checked one; their median is reported. */
    static final int TIMED_RUNS = 5;

    private DeviceCheck() {
    }

    /**
     * One code path's line of the check.
     *
     * @param variant the code path
     * @param result  what its probe showed, or empty when the device does not run it ({@link #notRunBecause})
     */
    public record Row(CodePath variant, Optional<ProbeResult> result) {
        /** Why a path without a result was not run. */
        public String notRunBecause() {
            return variant.absentBecause();
        }

        public boolean failed() {
            return result.isPresent() && result.get().failed();
        }
    }

    /**
     * Every code path on {@code device}, in {@link ForwardVariants#codePaths}' order;
     * on its own context, released after.
     */
    public static List<Row> run(OpenClDevice device) {
        List<Row> rows = new ArrayList<>();
        try (OpenClContext context = OpenClContext.create(device, new ProgramBinaryCache(null))) {
            for (CodePath path : ForwardVariants.codePaths()) {
                rows.add(new Row(path, ProbeCase.of(path, device)
                        .map(probe -> VariantProbe.run(context, probe, TIMED_RUNS))));
            }
        }
        return rows;
    }
}
