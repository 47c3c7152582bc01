package org.convcl.opencl.internal.tuner;

import org.convcl.opencl.internal.tuning.TuningDatabase;
import org.convcl.opencl.internal.tuning.TuningCandidates;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.convcl.ConvGeometry;
import org.convcl.DType;
import org.convcl.HalfFloats;
import org.convcl.Tensor;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.opencl.DeviceTensor;
import org.convcl.opencl.OpenClBackend;
import org.convcl.opencl.internal.plan.ConvPlan;
import org.convcl.opencl.internal.plan.KernelConfig;

/**
 * Finds the fastest kernel config for one geometry on one device, CLBlast style: every candidate
 * ({@link TuningCandidates}) is compiled, run once on random data into an output poisoned with NaN and
 * checked element by element against the Java path before it is timed (a config that computes anything
 * else is rejected, never chosen; a geometry {@link ConvGeometry#withStorage stored} as float16 or bfloat16 runs
 * on device tensors of that type, its random operands representable in it), then timed kernel-only on device-resident tensors: warm-up runs, then
 * the median of {@code reps} runs. The fastest few and the default are then timed again, interleaved, and
 * the winner of that round is recorded in the device's {@link TuningDatabase}, which plans consult from
 * then on.
 */
public final class Tuner {
    /** max |got - ref| / max |ref| a candidate may show against the Java path (float32 vs float32). */
    static final double TOLERANCE = 1e-4;
    /** A candidate whose first timed run is this much slower than the best median so far stops there. */
    private static final double HOPELESS = 8;
    /** How many of the fastest candidates the final, interleaved round times again (besides the default). */
    private static final int FINALISTS = 3;

    private final OpenClBackend backend;
    private final TuningDatabase database;
    private final int reps;
    private final int warmups;
    private final Consumer<String> progress;

    /**
     * @param database where winners are recorded (null: nowhere)
     * @param progress receives one line per candidate (for stderr)
     */
    public Tuner(OpenClBackend backend, TuningDatabase database, int reps, int warmups, Consumer<String> progress) {
        if (reps < 1) {
            throw new IllegalArgumentException("reps: got " + reps + "; must be >= 1");
        }
        this.backend = backend;
        this.database = database;
        this.reps = reps;
        this.warmups = Math.max(0, warmups);
        this.progress = progress;
    }

    /** One candidate's fate: its median time, or why it was rejected. */
    public record Trial(KernelConfig config, double ms, String rejected) {
        public boolean accepted() {
            return rejected == null;
        }
    }

    /** A geometry's tuning: every trial (the default first) and the winner. */
    public record Outcome(ConvGeometry geometry, List<Trial> trials, Trial best) {
        public Trial untuned() {
            return trials.get(0);
        }

        public long rejectedCount() {
            return trials.stream().filter(t -> !t.accepted()).count();
        }
    }

    /** Tunes {@code g} over at most {@code budget} candidates and records the winner. */
    public Outcome tune(ConvGeometry g, int budget) {
        return tune(g, TuningCandidates.of(g, backend.device(), budget));
    }

    /** Tunes {@code g} over {@code candidates} (the first is reported as the untuned one). */
    public Outcome tune(ConvGeometry g, List<KernelConfig> candidates) {
        if (g.outputSpatialSize() == 0 || g.outChannels() == 0 || g.batch() == 0) {
            throw new IllegalArgumentException("geometry " + g + " has an empty output; there is nothing to tune");
        }
        if (candidates.isEmpty()) {
            throw new IllegalArgumentException("candidates: none given for " + g);
        }
        SplittableRandom random = new SplittableRandom(g.toString().hashCode());
        // Operands of the geometry's storage type, as float32 holds them; the reference sums them in float32.
        DType storage = g.storage();
        float[] input = representable(storage, randomArray(random, Tensor.elementCount(g.inputShape())));
        float[] kernel = representable(storage, randomArray(random, Tensor.elementCount(g.kernelShape())));
        float[] bias = representable(storage, randomArray(random, g.outChannels()));
        float[] reference = new float[(int) Tensor.elementCount(g.outputShape())];
        CpuBackend.instance().forward(g.withStorage(DType.FLOAT32), input, kernel, bias, reference);
        float[] poison = new float[reference.length];
        Arrays.fill(poison, Float.NaN);

        List<Trial> trials = new ArrayList<>();
        try (DeviceTensor x = DeviceTensor.upload(backend, Tensor.of(input, g.inputShape()), storage);
                DeviceTensor w = DeviceTensor.upload(backend, Tensor.of(kernel, g.kernelShape()), storage);
                DeviceTensor b = DeviceTensor.upload(backend, Tensor.of(bias, g.outChannels()), storage);
                DeviceTensor y = DeviceTensor.allocate(backend, storage, g.outputShape())) {
            double bestMs = Double.NaN;
            for (KernelConfig candidate : candidates) {
                Trial trial = trial(g, candidate, x, w, b, poison, reference, bestMs);
                trials.add(trial);
                progress.accept(String.format(Locale.ROOT, "tune: %-36s %s", trial.config(), trial.accepted()
                        ? String.format(Locale.ROOT, "%.3f ms", trial.ms()) : "rejected: " + trial.rejected()));
                if (trial.accepted() && !(trial.ms() >= bestMs)) {
                    bestMs = trial.ms();
                }
            }
            confirm(g, trials, x, w, b, y);
        }
        Trial best = trials.stream().filter(Trial::accepted).min(Comparator.comparingDouble(Trial::ms)).orElse(null);
        if (best != null && database != null) {
            Trial untuned = trials.get(0);
            database.record(g, best.config(), best.ms(), untuned.accepted() ? untuned.ms() : Double.NaN, trials.size());
        }
        return new Outcome(g, List.copyOf(trials), best);
    }

    /**
     * The final round: the fastest few and the untuned default are timed again, interleaved run by run, so
     * that a drift in the machine's load (other processes, clocks) affects them alike; their trials are
     * replaced by these medians.
     */
    private void confirm(ConvGeometry g, List<Trial> trials, DeviceTensor x, DeviceTensor w, DeviceTensor b,
            DeviceTensor y) {
        List<Integer> finalists = new ArrayList<>();
        if (trials.get(0).accepted()) {
            finalists.add(0);
        }
        java.util.stream.IntStream.range(1, trials.size()).filter(i -> trials.get(i).accepted()).boxed()
                .sorted(Comparator.comparingDouble(i -> trials.get(i).ms())).limit(FINALISTS).forEach(finalists::add);
        if (finalists.size() < 2) {
            return;
        }
        List<ConvPlan> plans = new ArrayList<>();
        for (int i : finalists) {
            plans.add(backend.plan(g, true, trials.get(i).config()));
        }
        double[][] times = new double[finalists.size()][reps];
        for (int r = 0; r < reps; r++) {
            for (int f = 0; f < finalists.size(); f++) {
                times[f][r] = run(plans.get(f), g, x, w, b, y);
            }
        }
        for (int f = 0; f < finalists.size(); f++) {
            Trial first = trials.get(finalists.get(f));
            Trial confirmed = new Trial(first.config(), median(times[f]), null);
            trials.set(finalists.get(f), confirmed);
            progress.accept(String.format(Locale.ROOT, "tune: %-36s %.3f ms (final round)", confirmed.config(),
                    confirmed.ms()));
        }
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    private Trial trial(ConvGeometry g, KernelConfig candidate, DeviceTensor x, DeviceTensor w, DeviceTensor b,
            float[] poison, float[] reference, double bestMs) {
        ConvPlan plan;
        try {
            plan = backend.plan(g, true, candidate);
        } catch (RuntimeException e) {
            return new Trial(candidate, Double.NaN, "does not build or fit: " + e.getMessage());
        }
        KernelConfig compiled = plan.config();
        try (DeviceTensor y = DeviceTensor.upload(backend, Tensor.of(poison, g.outputShape()), g.storage())) {
            backend.forward(plan, g, x, w, b, y);
            String wrong = compare(y.download().data(), reference, tolerance(g.storage()));
            if (wrong != null) {
                return new Trial(compiled, Double.NaN, wrong);
            }
            for (int i = 0; i < warmups; i++) {
                run(plan, g, x, w, b, y);
            }
            double[] times = new double[reps];
            int done = 0;
            while (done < reps) {
                times[done++] = run(plan, g, x, w, b, y);
                if (done == 1 && times[0] > HOPELESS * bestMs) {
                    break;
                }
            }
            return new Trial(compiled, median(Arrays.copyOf(times, done)), null);
        } catch (RuntimeException e) {
            return new Trial(compiled, Double.NaN, "failed to run: " + e.getMessage());
        }
    }

    private double run(ConvPlan plan, ConvGeometry g, DeviceTensor x, DeviceTensor w, DeviceTensor b,
            DeviceTensor y) {
        long start = System.nanoTime();
        backend.forward(plan, g, x, w, b, y);
        backend.finish();
        return (System.nanoTime() - start) / 1e6;
    }

    /** {@link #compare(float[], float[], double)} within {@link #TOLERANCE} (float32 against float32). */
    static String compare(float[] got, float[] reference) {
        return compare(got, reference, TOLERANCE);
    }

    /**
     * What a candidate may show against the float32 reference on operands of {@code storage}: {@link #TOLERANCE}
     * for the order of the float32 sums, plus the unit roundoff of a 16-bit type (2^-11 for float16, 2^-8 for
     * bfloat16) for the output's one rounding to it. A wrong tile or index is off by far more.
     */
    static double tolerance(DType storage) {
        return switch (storage) {
            case FLOAT32 -> TOLERANCE;
            case FLOAT16 -> TOLERANCE + 0x1p-11;
            case BFLOAT16 -> TOLERANCE + 0x1p-8;
        };
    }

    /** Null when {@code got} matches {@code reference} within {@code tolerance}, else what is wrong. */
    static String compare(float[] got, float[] reference, double tolerance) {
        double maxError = 0;
        double maxReference = 0;
        for (int i = 0; i < got.length; i++) {
            if (Float.isNaN(got[i])) {
                return "output element " + i + " was not written (or is NaN)";
            }
            maxError = Math.max(maxError, Math.abs(got[i] - reference[i]));
            maxReference = Math.max(maxReference, Math.abs(reference[i]));
        }
        double relative = maxReference == 0 ? maxError : maxError / maxReference;
        return relative <= tolerance ? null : String.format(Locale.ROOT,
                "wrong result: max_rel_err %.2e exceeds %.0e", relative, tolerance);
    }

    /** {@code values} rounded to nearest even in {@code storage} (unchanged for float32), as float32 holds them. */
    private static float[] representable(DType storage, float[] values) {
        return storage == DType.FLOAT32 ? values : HalfFloats.decode(storage, HalfFloats.encode(storage, values));
    }

    private static float[] randomArray(SplittableRandom random, long count) {
        float[] values = new float[(int) count];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (random.nextDouble() * 2 - 1);
        }
        return values;
    }
}
