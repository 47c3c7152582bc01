package org.convcl.opencl.internal.probe;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.ShortBuffer;
import java.util.Arrays;
import java.util.Locale;
import org.convcl.DType;
import org.convcl.HalfFloats;
import org.convcl.opencl.device.KernelBuildException;
import org.convcl.opencl.internal.plan.ConvPlan;
import org.convcl.opencl.internal.runtime.ClBuffer;
import org.convcl.opencl.internal.runtime.OpenClContext;

/**
 * Runs a {@link ProbeCase} on a device: builds its plan, runs it into an output poisoned with NaN (so an element
 * never written shows), and compares with the Java path. Every failure is an outcome, never an exception: a probe
 * is asked whether a variant works, and "no" is an answer. A case stored in float16 or bfloat16 runs on buffers of
 * its type's bits.
 */
public final class VariantProbe {
    /**
     * The largest {@code max_rel_err} against the Java path that passes. Both sides round TF32 operands the same way
     * and differ only in float32 summation order (about 1e-6 here); a kernel that reads or writes the wrong element
     * is off by the order of the values themselves.
     */
    static final double TOLERANCE = 1e-3;
    /**
     * As {@link #TOLERANCE} for a bfloat16 case, whose output the device rounds to 8 significant bits (within 2^-8 of
     * the largest value, about 4e-3) where the Java path's float32 result is not rounded. A float16 output's rounding
     * (2^-11, about 5e-4) fits {@link #TOLERANCE}.
     */
    static final double BFLOAT16_TOLERANCE = 1e-2;

    private VariantProbe() {
    }

    /**
     * Runs {@code probe} on {@code context}'s device once, then {@code timedRuns} more times for the median time
     * (none: NaN). Enqueues on the context's queue after work already there; waits for its own.
     */
    public static ProbeResult run(OpenClContext context, ProbeCase probe, int timedRuns) {
        String config = probe.config().toString();
        DType type = probe.geometry().storage();
        double tolerance = type == DType.BFLOAT16 ? BFLOAT16_TOLERANCE : TOLERANCE;
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
            input = upload(context, probe.input(), type, "probe input");
            kernel = upload(context, probe.kernel(), type, "probe kernel");
            bias = upload(context, probe.bias(), type, "probe bias");
            float[] got = new float[probe.expected().length];
            Arrays.fill(got, Float.NaN);
            output = upload(context, got, type, "probe output");
            int batch = probe.geometry().batch();
            plan.enqueue(context, batch, input, 0, kernel, bias, output, 0);
            download(context, output, type, got);
            double error = maxRelErr(probe.expected(), got);
            if (!(error <= tolerance)) {
                return new ProbeResult(probe.variant(), config, ProbeResult.Outcome.WRONG_RESULT, String.format(
                        Locale.ROOT, "max_rel_err %.2e against the Java path exceeds %.0e", error, tolerance), error,
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

    /** A buffer of {@code values} stored as {@code type} (a 16-bit type's bits, rounded to nearest even). */
    private static ClBuffer upload(OpenClContext context, float[] values, DType type, String purpose) {
        ClBuffer buffer = context.allocate((long) type.bytes() * values.length, purpose);
        try {
            if (type == DType.FLOAT32) {
                context.write(buffer, 0, values, 0, values.length);
            } else {
                ShortBuffer bits = directShorts(values.length);
                HalfFloats.encode(type, values, 0, bits, 0, values.length);
                context.write(buffer, bits);
            }
        } catch (RuntimeException e) {
            buffer.close();
            throw e;
        }
        return buffer;
    }

    /** The buffer's values, stored as {@code type}, into {@code target} once the work queued before is done. */
    private static void download(OpenClContext context, ClBuffer buffer, DType type, float[] target) {
        if (type == DType.FLOAT32) {
            context.read(context.queue(), buffer, 0, target, 0, target.length);
            return;
        }
        context.finish(); // the 16-bit read goes through the download queue, which does not wait for the kernel
        ShortBuffer bits = directShorts(target.length);
        context.read(buffer, bits);
        HalfFloats.decode(type, bits, 0, target, 0, target.length);
    }

    private static ShortBuffer directShorts(int count) {
        return ByteBuffer.allocateDirect(2 * count).order(ByteOrder.nativeOrder()).asShortBuffer();
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
