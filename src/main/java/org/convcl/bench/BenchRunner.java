package org.convcl.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.convcl.Activation;
import org.convcl.ConvGeometry;
import org.convcl.Epilogue;
import org.convcl.ConvSpec;
import org.convcl.Precision;
import org.convcl.Tensor;
import org.convcl.backend.ConvBackend;
import org.convcl.backend.internal.HostEpilogue;

/**
 * Times one suite shape honestly: random inputs, warm-up, the median of many runs, the output poisoned
 * with NaN before every run and checked afterwards, and the last run compared element by element with a
 * float64 reference on one whole batch element. On a device it times, besides host arrays in and out
 * ({@code ms}), the kernels alone from profiling events ({@code device_ms}), one synchronised call into a reused
 * output ({@code call_ms}) and {@value #CHAIN_CALLS} layer calls on device tensors with one wait, per call
 * ({@code chain_ms}). Each shape is also timed with a residual + ReLU epilogue, fused into the convolution's store
 * ({@code epilogue_ms}) and as separate passes after it ({@code unfused_ms}), and with a fused scale + shift + ReLU
 * epilogue and no residual ({@code activation_ms}: a conv + folded batch norm + ReLU layer), and with the residual
 * + ReLU epilogue written over the residual ({@code inplace_ms}: the output is the residual's array, as in a ResNet
 * block's last convolution), interleaved run by run with the bare call: with host arrays on the Java path (against
 * {@code ms}), with device tensors on a device (wall times of a synchronised call, against {@code call_ms}); every
 * result is checked against the reference too. On the Java path all five write the same output array.
 */
public final class BenchRunner {
    private final ConvBackend backend;
    private final Function<Prepared, DeviceCall> devicePath;
    private final int reps;
    private final int warmups;
    private final double warmupMillis;

    /** Host-array warm-up runs beyond which the warm-up stops even when {@code warmupMillis} have not passed. */
    static final int MAX_WARMUPS = 200;

    /**
     * @param devicePath makes a device-resident call for a prepared workload, or returns null; pass
     *                   {@code p -> null} for backends without one
     */
    public BenchRunner(ConvBackend backend, Function<Prepared, DeviceCall> devicePath, int reps, int warmups) {
        this(backend, devicePath, reps, warmups, 0);
    }

    /**
     * As {@link #BenchRunner(ConvBackend, Function, int, int)}, with host-array warm-up runs continuing past
     * {@code warmups} until they have taken {@code warmupMillis} (at most {@value #MAX_WARMUPS} runs): the Java
     * path's vector code runs interpreted, then through two compilers, before the JIT's final code runs, which
     * on the first shape of a suite takes more than three calls.
     */
    public BenchRunner(ConvBackend backend, Function<Prepared, DeviceCall> devicePath, int reps, int warmups,
            double warmupMillis) {
        if (reps < 1) {
            throw new IllegalArgumentException("reps: got " + reps + "; must be >= 1");
        }
        this.backend = backend;
        this.devicePath = devicePath;
        this.reps = reps;
        this.warmups = Math.max(0, warmups);
        this.warmupMillis = Math.max(0, warmupMillis);
    }

    /** A workload's spec, geometry and host arrays, as handed to a device path. */
    public record Prepared(ConvSpec spec, ConvGeometry geometry, float[] input, float[] kernel, float[] bias) {
    }

    /** Layer calls queued back to back for {@code chain_ms}. */
    static final int CHAIN_CALLS = 16;

    /** {@code shape} at {@code batch} in float32 ({@link Precision#HIGHEST}). */
    public BenchResult run(BenchShape shape, int batch) {
        return run(shape, batch, Precision.HIGHEST);
    }

    /** {@code shape} at {@code batch}, its products computed in {@code precision}; the error is against float64. */
    public BenchResult run(BenchShape shape, int batch, Precision precision) {
        SplittableRandom random = new SplittableRandom(shape.name().hashCode());
        Prepared work = prepare(shape, batch, precision, random);
        ConvGeometry geometry = work.geometry();
        float[] output = new float[(int) Tensor.elementCount(geometry.outputShape())];
        // The epilogue's residual, then the folded batch norm's scale and shift: drawn after the operands, in the
        // order they were added to the bench, so that what each timing convolves stays what it was before.
        float[] residual = randomArray(random, output.length);
        float[] scale = randomArray(random, geometry.outChannels());
        float[] shift = randomArray(random, geometry.outChannels());
        Epilogue<float[]> residualRelu = new Epilogue<>(Activation.relu(), null, null, residual);
        Epilogue<float[]> batchNormRelu = new Epilogue<>(Activation.relu(), scale, shift, null);

        double hostMs;
        double maxRelErr;
        long heapPerCall;
        double deviceMs = Double.NaN;
        double callMs = Double.NaN;
        double chainMs = Double.NaN;
        double epilogueMs = Double.NaN;
        double unfusedMs = Double.NaN;
        double activationMs = Double.NaN;
        double inPlaceMs = Double.NaN;
        String epilogueNote = null;
        try (DeviceCall device = devicePath.apply(work)) {
            TimedRun bare = () -> {
                Arrays.fill(output, Float.NaN);
                return timed(() -> backend.forward(geometry, work.input, work.kernel, work.bias, output));
            };
            Runnable bareCheck = () -> requireWritten(shape, output, "host");
            if (device == null) {
                // The Java path: the bare call, the fused epilogues and the unfused passes interleaved run by run,
                // so that each ratio compares times taken under the same load, and all into the same output array:
                // the same bare call runs up to 1.27x slower into one 25.7 MB array than into another (stem7x7s2,
                // five arrays in turn), which separate arrays would report as the epilogue's cost.
                Epilogue<float[]> addResidual = new Epilogue<>(Activation.identity(), null, null, residual);
                Epilogue<float[]> relu = new Epilogue<>(Activation.relu(), null, null, null);
                Epilogue<float[]> inPlaceRelu = new Epilogue<>(Activation.relu(), null, null, output);
                int channels = geometry.outChannels();
                TimedRun[] runs = {bare, () -> {
                    Arrays.fill(output, Float.NaN);
                    return timed(() -> backend.forward(geometry, work.input, work.kernel, work.bias, residualRelu,
                            output));
                }, () -> {
                    Arrays.fill(output, Float.NaN);
                    return timed(() -> {
                        backend.forward(geometry, work.input, work.kernel, work.bias, output);
                        HostEpilogue.apply(addResidual, channels, output);
                        HostEpilogue.apply(relu, channels, output);
                    });
                }, () -> {
                    Arrays.fill(output, Float.NaN);
                    return timed(() -> backend.forward(geometry, work.input, work.kernel, work.bias, batchNormRelu,
                            output));
                }, () -> {
                    // The residual added in place: the output array holds the residual when the call starts (filled
                    // outside the clock, as the bare call's NaN is) and the call writes over it.
                    System.arraycopy(residual, 0, output, 0, output.length);
                    return timed(() -> backend.forward(geometry, work.input, work.kernel, work.bias, inPlaceRelu,
                            output));
                }};
                String[] paths = {"host", "host epilogue", "host unfused", "host activation", "host in place"};
                // The in-place call's result is checked against relu(conv + residual) below, as the others' are: its
                // output starts as the residual, never NaN, so only that check can see a call that wrote nothing.
                List<Epilogue<float[]>> references = Arrays.asList(null, residualRelu, residualRelu, batchNormRelu,
                        residualRelu);
                Runnable[] checks = new Runnable[runs.length];
                for (int r = 0; r < runs.length; r++) {
                    String path = paths[r];
                    checks[r] = () -> requireWritten(shape, output, path);
                }
                double[] medians = mediansMs(runs, checks);
                hostMs = medians[0];
                epilogueMs = medians[1];
                unfusedMs = medians[2];
                activationMs = medians[3];
                inPlaceMs = medians[4];
                // Each run's result, from one more run of it, against the reference of what it computes.
                maxRelErr = 0;
                for (int r = 0; r < runs.length; r++) {
                    runs[r].millis();
                    checks[r].run();
                    maxRelErr = Math.max(maxRelErr, maxRelativeError(work, output, references.get(r)));
                }
            } else {
                hostMs = medianMs(bare, bareCheck);
                maxRelErr = maxRelativeError(work, output, null);
            }
            heapPerCall = HeapCounter.allocatedBy(() -> backend.forward(geometry, work.input, work.kernel, work.bias,
                    output));
            if (device != null) {
                // The bare call, the fused epilogues and the unfused passes are timed in turn, round by round, as on
                // the Java path: epilogue_ms, unfused_ms, activation_ms and inplace_ms are wall times of a
                // synchronised call, so call_ms (the bare call's wall time) is what they compare with, under the same
                // load. A device without an epilogue says so on its first try, which is then left out of the rounds.
                List<TimedRun> runs = new ArrayList<>();
                List<Runnable> checks = new ArrayList<>();
                // call_ms and device_ms come from the same calls: each call's kernels ran within its wall time,
                // so the medians keep device_ms <= call_ms whatever the noise.
                List<Double> kernelTimes = new ArrayList<>();
                runs.add(() -> {
                    device.poisonOutput();
                    long start = System.nanoTime();
                    kernelTimes.add(device.deviceMillis());
                    return (System.nanoTime() - start) / 1e6;
                });
                checks.add(() -> requireWritten(shape, device.download(), "device"));
                // The epilogue forms, each with the label of its check and the reference of what it computes.
                List<DeviceForm> forms = List.of(
                        new DeviceForm("epilogue_ms", "device epilogue", () -> device.fusedEpilogueMillis(residual),
                                residualRelu),
                        new DeviceForm("unfused_ms", "device unfused", () -> device.unfusedEpilogueMillis(residual),
                                residualRelu),
                        new DeviceForm("activation_ms", "device activation",
                                () -> device.activationEpilogueMillis(scale, shift), batchNormRelu),
                        new DeviceForm("inplace_ms", "device in place", () -> device.inPlaceEpilogueMillis(residual),
                                residualRelu));
                List<DeviceForm> measured = new ArrayList<>();
                for (DeviceForm form : forms) {
                    String refusal = unsupportedReason(form.run());
                    if (refusal == null) {
                        measured.add(form);
                        runs.add(form.run());
                        checks.add(() -> requireWritten(shape, device.downloadEpilogue(), form.path()));
                    } else {
                        epilogueNote = withNote(epilogueNote, form.key() + " not measured: " + refusal);
                    }
                }
                double[] medians = mediansMs(runs.toArray(new TimedRun[0]), checks.toArray(new Runnable[0]));
                callMs = medians[0];
                deviceMs = median(kernelTimes.subList(kernelTimes.size() - reps, kernelTimes.size()).stream()
                        .mapToDouble(Double::doubleValue).toArray());
                maxRelErr = Math.max(maxRelErr, maxRelativeError(work, device.download(), null));
                double[] formMs = new double[forms.size()];
                Arrays.fill(formMs, Double.NaN);
                for (int i = 0; i < measured.size(); i++) {
                    DeviceForm form = measured.get(i);
                    formMs[forms.indexOf(form)] = medians[i + 1];
                    // One more run of the form, its result against the reference of what it computes.
                    form.run().millis();
                    maxRelErr = Math.max(maxRelErr, maxRelativeError(work, device.downloadEpilogue(),
                            form.reference()));
                }
                epilogueMs = formMs[0];
                unfusedMs = formMs[1];
                activationMs = formMs[2];
                inPlaceMs = formMs[3];
                chainMs = medianMs(() -> device.chainMillisPerCall(CHAIN_CALLS),
                        () -> requireWritten(shape, device.downloadChained(), "chained"));
                maxRelErr = Math.max(maxRelErr, maxRelativeError(work, device.downloadChained(), null));
            }
        }
        return new BenchResult(shape.name(), batch, geometry.flops() / 1e9, hostMs, deviceMs, callMs, chainMs,
                epilogueMs, unfusedMs, activationMs, inPlaceMs, epilogueNote, maxRelErr, heapPerCall,
                bytesPerCall(geometry, Float.BYTES), (long) output.length * Float.BYTES);
    }

    /**
     * {@code shape}'s workload at {@code batch}: its geometry and random operands, drawn from {@code random}
     * (seeded with the shape's name, so that every run of a shape, in any type, convolves the same values).
     */
    static Prepared prepare(BenchShape shape, int batch, Precision precision, SplittableRandom random) {
        ConvSpec spec = shape.spec().toBuilder().precision(precision).build();
        ConvGeometry geometry = spec.resolve(shape.inputShape(batch), shape.kernelShape());
        return new Prepared(spec, geometry, randomArray(random, Tensor.elementCount(geometry.inputShape())),
                randomArray(random, Tensor.elementCount(geometry.kernelShape())),
                randomArray(random, geometry.outChannels()));
    }

    /** Bytes one call reads and writes: input, kernel, bias and output, each element {@code elementBytes}. */
    static long bytesPerCall(ConvGeometry g, int elementBytes) {
        return (Tensor.elementCount(g.inputShape()) + Tensor.elementCount(g.kernelShape()) + g.outChannels()
                + Tensor.elementCount(g.outputShape())) * elementBytes;
    }

    private interface TimedRun {
        double millis();
    }

    /**
     * One epilogue form timed on a device: its JSON key, the label of its output check, the timed call, and the
     * epilogue whose float64 reference its result is compared with.
     */
    private record DeviceForm(String key, String path, TimedRun run, Epilogue<float[]> reference) {
    }

    private static String withNote(String notes, String note) {
        return notes == null ? note : notes + "; " + note;
    }

    /** Why {@code run} is unsupported on this device (its first, untimed try), or null when it ran. */
    private static String unsupportedReason(TimedRun run) {
        try {
            run.millis();
            return null;
        } catch (UnsupportedOperationException e) {
            return e.getMessage();
        }
    }

    private double medianMs(TimedRun run, Runnable check) {
        return mediansMs(new TimedRun[] {run}, new Runnable[] {check})[0];
    }

    /**
     * The median time of each run, the runs taken in turn (one of each per round) so that all see the same load;
     * the warm-up counts the first run's time against {@code warmupMillis}. Each check follows its run.
     */
    private double[] mediansMs(TimedRun[] runs, Runnable[] checks) {
        double warmedMillis = 0;
        for (int i = 0; i < warmups || (warmedMillis < warmupMillis && i < MAX_WARMUPS); i++) {
            warmedMillis += runs[0].millis();
            for (int r = 1; r < runs.length; r++) {
                runs[r].millis();
            }
        }
        if (warmups > 0) {
            for (Runnable check : checks) {
                check.run();
            }
        }
        double[][] times = new double[runs.length][reps];
        for (int i = 0; i < reps; i++) {
            for (int r = 0; r < runs.length; r++) {
                times[r][i] = runs[r].millis();
                checks[r].run();
            }
        }
        double[] medians = new double[runs.length];
        for (int r = 0; r < runs.length; r++) {
            medians[r] = median(times[r]);
        }
        return medians;
    }

    static double median(double[] values) {
        double[] times = values.clone();
        Arrays.sort(times);
        int n = times.length;
        return n % 2 == 1 ? times[n / 2] : (times[n / 2 - 1] + times[n / 2]) / 2;
    }

    private static double timed(Runnable call) {
        long start = System.nanoTime();
        call.run();
        return (System.nanoTime() - start) / 1e6;
    }

    /** Fails the benchmark when any output element kept its NaN poison. */
    static void requireWritten(BenchShape shape, float[] output, String path) {
        for (int i = 0; i < output.length; i++) {
            if (Float.isNaN(output[i])) {
                throw new IllegalStateException("bench " + shape.name() + " (" + path + "): output element " + i
                        + " was not written");
            }
        }
    }

    /**
     * max |got - ref| / max |ref| over the last batch element; with an {@code epilogue} (host arrays, or null for
     * none), the reference is {@code act(scale * conv + shift + residual)} in float64, the activation applied in
     * float32 as the library defines it (the bench's ReLU is exact in either).
     */
    static double maxRelativeError(Prepared work, float[] output, Epilogue<float[]> epilogue) {
        ConvGeometry g = work.geometry;
        if (g.batch() == 0 || g.outputSpatialSize() == 0) {
            return 0;
        }
        int b = g.batch() - 1;
        double[] reference = ReferenceConv.batchElement(g, work.input, work.kernel, work.bias, b);
        int offset = b * g.outputSpatialSize() * g.outChannels();
        if (epilogue != null) {
            applyEpilogue(epilogue, g.outChannels(), offset, reference);
        }
        double maxError = 0;
        double maxReference = 0;
        for (int i = 0; i < reference.length; i++) {
            maxError = Math.max(maxError, Math.abs(output[offset + i] - reference[i]));
            maxReference = Math.max(maxReference, Math.abs(reference[i]));
        }
        return maxReference == 0 ? maxError : maxError / maxReference;
    }

    /** {@code epilogue} on {@code reference}, channels-last output elements from {@code offset} of the whole. */
    private static void applyEpilogue(Epilogue<float[]> epilogue, int channels, int offset, double[] reference) {
        for (int i = 0; i < reference.length; i++) {
            int c = i % channels;
            double z = reference[i];
            if (epilogue.scale() != null) {
                z *= epilogue.scale()[c];
            }
            if (epilogue.shift() != null) {
                z += epilogue.shift()[c];
            }
            if (epilogue.residual() != null) {
                z += epilogue.residual()[offset + i];
            }
            reference[i] = epilogue.activation().isIdentity() ? z : epilogue.activation().apply((float) z);
        }
    }

    private static float[] randomArray(SplittableRandom random, long count) {
        float[] values = new float[(int) count];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (random.nextDouble() * 2 - 1);
        }
        return values;
    }
}
