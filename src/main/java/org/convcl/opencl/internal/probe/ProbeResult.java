package org.convcl.opencl.internal.probe;

import java.util.Locale;
import org.convcl.opencl.internal.plan.CodePath;

/**
 * What running one {@link ProbeCase} on a device showed.
 *
 * @param variant   the code path probed
 * @param config    the config built, as text ({@code gemm 64x16x16 ...})
 * @param outcome   how far it got
 * @param reason    why it failed (one line), or empty when it passed
 * @param maxRelErr {@code max |device - Java path| / max |Java path|}, NaN when it did not run
 * @param ms        the median time of the timed runs in milliseconds, NaN when none was timed
 */
public record ProbeResult(CodePath variant, String config, Outcome outcome, String reason, double maxRelErr,
        double ms) {

    /**
     * How far a probe got. {@code DOES_NOT_FIT}: built, but the compiled kernel cannot launch the case's blocking on
     * the device (its own work-group limit is lower); a limit of the device, not a fault of its driver.
     */
    public enum Outcome {
        PASSED, BUILD_FAILED, DOES_NOT_FIT, RUN_FAILED, WRONG_RESULT;

        /**
         * Whether a verdict with this outcome holds for later processes, so the cache directory may remember it: the
         * compiler's and the kernel's answers are the same every time for one device, driver and source. A failed
         * run is not: a busy device's {@code CL_OUT_OF_RESOURCES} or {@code CL_MEM_OBJECT_ALLOCATION_FAILURE} must
         * not disable a variant for good; nor is {@code DOES_NOT_FIT}, a limit of the device that costs nothing
         * to find again.
         */
        public boolean lasting() {
            return this == PASSED || this == BUILD_FAILED || this == WRONG_RESULT;
        }
    }

    public boolean passed() {
        return outcome == Outcome.PASSED;
    }

    /** Whether the driver got the variant wrong: it did not build, did not run, or computed a wrong result. */
    public boolean failed() {
        return outcome == Outcome.BUILD_FAILED || outcome == Outcome.RUN_FAILED || outcome == Outcome.WRONG_RESULT;
    }

    /** {@code it failed to build: ...}, for a WARN; empty when it passed. */
    public String failure() {
        return switch (outcome) {
            case PASSED -> "";
            case BUILD_FAILED -> "it failed to build: " + reason;
            case DOES_NOT_FIT -> "it does not fit the device: " + reason;
            case RUN_FAILED -> "it failed to run: " + reason;
            case WRONG_RESULT -> "it gave a wrong result: " + reason;
        };
    }

    /** {@code 1.2e-07}, or {@code -} when nothing was compared. */
    public String maxRelErrText() {
        return Double.isNaN(maxRelErr) ? "-" : String.format(Locale.ROOT, "%.1e", maxRelErr);
    }
}
