package org.convcl.opencl.internal.probe;

import java.util.Arrays;
import java.util.Locale;
import org.convcl.opencl.device.KernelBuildException;
import org.convcl.opencl.internal.plan.ConvPlan;
import org.convcl.opencl.internal.runtime.ClBuffer;
import org.convcl.opencl.internal.runtime.OpenClContext;

/**
 * Runs a {@link ProbeCase} on a device: builds its plan, runs it into an output poisoned with NaN (so an element
 * never written shows), and compares with the Java path. Every failure is an outcome, never an exception: a probe
 * is asked whether a variant works, and "no" is an answer.
 */
public final class VariantProbe {
    /**
     * The largest {@code max_rel_err} against the Java path that passes. Both sides round TF32 operands the same way
     * and differ only in float32 summation order (about 1e-6 here); a kernel that reads or writes the wrong element
     * is off by the order of the values themselves.
     */
    static final double TOLERANCE = 1e-3;

    private VariantProbe() {
    }

    /**
     * Runs {@code probe} on {@code context}'s device once, then {@code timedRuns} more times for the median time
     * (none: NaN). Enqueues on the context's queue after work already there; waits for its own.
     */
    public static ProbeResult run(OpenClContext context, ProbeCase probe, int timedRuns) {
        String config = probe.config().toString();
        ConvPlan plan;
        try {
            plan = ConvPlan.create(context, probe.geometry(), true, probe.config());
        } catch (KernelBuildException e) {
            return failed(probe, config, ProbeResult.Outcome.BUILD_FAILED, firstError(e.buildLog(), e.getMessage()));
        } catch (IllegalArgumentException e) {
            // A compiled kernel the device cannot launch with this blocking (its own work-group limit, say).
            return failed(probe, config, ProbeResult.Outcome.DOES_NOT_FIT, oneLine(e.getMessage()));
        } catch (RuntimeException e) {
            // The program built but the driver gave no kernel object, or the like: the variant cannot be made here.
            return failed(probe, config, ProbeResult.Outcome.BUILD_FAILED, oneLine(e.getMessage()));
        }
        ClBuffer input = null;
        ClBuffer kernel = null;
        ClBuffer bias = null;
        ClBuffer output = null;
        try {
            config = plan.config().toString();
            input = upload(context, probe.input(), "probe input");
            kernel = upload(context, probe.kernel(), "probe kernel");
            bias = upload(context, probe.bias(), "probe bias");
            float[] got = new float[probe.expected().length];
            Arrays.fill(got, Float.NaN);
            output = upload(context, got, "probe output");
            int batch = probe.geometry().batch();
            plan.enqueue(context, batch, input, 0, kernel, bias, output, 0);
            context.read(context.queue(), output, 0, got, 0, got.length);
            double error = maxRelErr(probe.expected(), got);
            if (!(error <= TOLERANCE)) {
                return new ProbeResult(probe.variant(), config, ProbeResult.Outcome.WRONG_RESULT, String.format(
                        Locale.ROOT, "max_rel_err %.2e against the Java path exceeds %.0e", error, TOLERANCE), error,
                        Double.NaN);
            }
            double[] times = new double[timedRuns];
            for (int i = 0; i < timedRuns; i++) {
                long start = System.nanoTime();
                plan.enqueue(context, batch, input, 0, kernel, bias, output, 0);
                context.finish();
                times[i] = (System.nanoTime() - start) / 1e6;
            }
            Arrays.sort(times);
            double ms = timedRuns == 0 ? Double.NaN : times[timedRuns / 2];
            return new ProbeResult(probe.variant(), config, ProbeResult.Outcome.PASSED, "", error, ms);
        } catch (RuntimeException e) {
            return failed(probe, config, ProbeResult.Outcome.RUN_FAILED, oneLine(e.getMessage()));
        } finally {
            plan.close();
            for (ClBuffer buffer : new ClBuffer[] {input, kernel, bias, output}) {
                if (buffer != null) {
                    buffer.close();
                }
            }
        }
    }

    private static ClBuffer upload(OpenClContext context, float[] values, String purpose) {
        ClBuffer buffer = context.allocate(4L * values.length, purpose);
        try {
            context.write(buffer, 0, values, 0, values.length);
        } catch (RuntimeException e) {
            buffer.close();
            throw e;
        }
        return buffer;
    }

    /** {@code max |got - expected| / max |expected|}; infinite when an element is NaN (not written, or poisoned). */
    static double maxRelErr(float[] expected, float[] got) {
        double maxError = 0;
        double maxReference = 0;
        for (int i = 0; i < expected.length; i++) {
            if (Float.isNaN(got[i]) && !Float.isNaN(expected[i])) {
                return Double.POSITIVE_INFINITY;
            }
            maxError = Math.max(maxError, Math.abs((double) got[i] - expected[i]));
            maxReference = Math.max(maxReference, Math.abs((double) expected[i]));
        }
        return maxReference == 0 ? maxError : maxError / maxReference;
    }

    private static ProbeResult failed(ProbeCase probe, String config, ProbeResult.Outcome outcome, String reason) {
        return new ProbeResult(probe.variant(), config, outcome, reason, Double.NaN, Double.NaN);
    }

    /** The build log's first line that names an error (the compiler's own words), else the message's first line. */
    static String firstError(String buildLog, String message) {
        if (buildLog != null) {
            for (String line : buildLog.lines().toList()) {
                if (line.toLowerCase(Locale.ROOT).contains("error")) {
                    return line.strip();
                }
            }
        }
        return oneLine(message);
    }

    /** A message's first line, for a one-line report; {@code (no message)} when it is null or blank. */
    public static String oneLine(String message) {
        if (message == null || message.isBlank()) {
            return "(no message)";
        }
        return message.strip().lines().findFirst().orElse("").strip();
    }
}
