package org.convcl.opencl.internal.probe;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.convcl.opencl.device.OpenClDevice;
import org.convcl.opencl.internal.runtime.ProgramBinaryCache;
import org.convcl.opencl.internal.runtime.OpenClContext;

/**
 * Every kernel variant on one device, probed afresh ({@code convcl devices --check}): built from source (no cached
 * binary stands in for the compiler), run on its {@link ProbeCase}, compared with the Java path and timed. Verdicts
 * remembered by {@link ProvenVariants} are neither read nor changed: this is the check a user runs to see what the
 * device does now.
 */
public final class DeviceCheck {
    /** Timed runs per variant after the checked one; their median is reported. */
    static final int TIMED_RUNS = 5;

    private DeviceCheck() {
    }

    /**
     * One variant's line of the check.
     *
     * @param variant the variant
     * @param result  what its probe showed, or empty when the device does not run it ({@link #notRunBecause})
     */
    public record Row(KernelVariant variant, Optional<ProbeResult> result) {
        /** Why a variant without a result was not run. */
        public String notRunBecause() {
            return switch (variant) {
                case MMA_TENSOR_CORES -> "not on this device (NVIDIA compute capability 8.0 and later only)";
                case MMA_EMULATED -> "not on this device (it runs the tensor-core form)";
                default -> "not on this device (its blocking does not fit the device's limits)";
            };
        }

        public boolean failed() {
            return result.isPresent() && result.get().failed();
        }
    }

    /** Every variant on {@code device}, in {@link KernelVariant} order; on its own context, released after. */
    public static List<Row> run(OpenClDevice device) {
        List<Row> rows = new ArrayList<>();
        try (OpenClContext context = OpenClContext.create(device, new ProgramBinaryCache(null))) {
            for (KernelVariant variant : KernelVariant.values()) {
                rows.add(new Row(variant, ProbeCase.of(variant, device)
                        .map(probe -> VariantProbe.run(context, probe, TIMED_RUNS))));
            }
        }
        return rows;
    }
}
