package org.convcl.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.convcl.ConvGeometry;
import org.convcl.DType;
import org.convcl.Precision;
import org.convcl.backend.BackendChoice;
import org.convcl.nn.Backends;
import org.convcl.backend.ConvBackend;
import org.convcl.bench.BenchShape;
import org.convcl.bench.BenchSuite;
import org.convcl.bench.DevicePaths;
import org.convcl.opencl.OpenClBackend;
import org.convcl.opencl.device.OpenClDevice;
import org.convcl.opencl.internal.tuner.Tuner;
import org.convcl.opencl.internal.tuning.TuningDatabase;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code convcl tune}: tunes the OpenCL kernels' blocking for the benchmark suite's shapes on the selected
 * device and records the winners in the device's tuning database, which plans consult from then on.
 */
@Command(name = "tune", mixinStandardHelpOptions = true, usageHelpWidth = 100,
        header = "Tunes the OpenCL kernels' blocking for the benchmark suite's shapes on one device.",
        description = {"",
            "The suite is the embedded bench/shapes.json unless --suite names an embedded network suite "
                + "(resnet50, resnet18) or a file; the device is the one "
                + "--backend opencl selects. CLBlast style: each candidate is checked against the Java path on "
                + "random data, then timed (warm-up, median of --reps runs). Winners go to the device's tuning "
                + "database in the cache directory and are used by every later plan on that device.",
            // Lines of their own: wrapped by picocli, the path would break after "~/.".
            "Cache directory: convcl.cache.dir / CONVCL_CACHE_DIR,",
            "  else $XDG_CACHE_HOME/convcl, else ~/.cache/convcl.",
            "Progress goes to stderr, the table of choices to stdout."})
public final class TuneCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--suite", paramLabel = SuiteOption.LABEL, description = SuiteOption.DESCRIPTION)
    String suite;

    @Option(names = "--shapes", split = ",", paramLabel = "NAME", description = "Only these shapes (comma-separated).")
    List<String> shapes = new ArrayList<>();

    @Option(names = "--backend", paramLabel = "auto|opencl", defaultValue = "opencl",
            description = "Device to tune: opencl (or auto) picks it as --backend opencl does (default: "
                    + "${DEFAULT-VALUE}); the Java path has nothing to tune.")
    String backend;

    @Option(names = "--batch", paramLabel = "cpu|gpu",
            description = "Which batch of the suite to tune for (default: gpu on a GPU device, else cpu).")
    String batch;

    @Option(names = "--budget", defaultValue = "24",
            description = "Candidate configs tried per shape, the default one included (default: ${DEFAULT-VALUE}).")
    int budget;

    @Mixin
    private PrecisionOption precisionOption;

    @Option(names = "--dtype", paramLabel = "float32|float16|bfloat16", defaultValue = "float32",
            description = "The storage type to tune for: float32, float16 or bfloat16 (any letter case). 16-bit "
                    + "kernels differ from float32 ones, so each type is tuned and recorded apart; conv, bench and "
                    + "the layers use the entries of the type they run in. 16-bit types take --precision highest "
                    + "only. Default: ${DEFAULT-VALUE}.")
    String dtype;

    @Option(names = "--reps", defaultValue = "5", description = "Timed runs per candidate (default: ${DEFAULT-VALUE}).")
    int reps;

    @Option(names = "--warmup", defaultValue = "2", description = "Untimed runs first (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Override
    public Integer call() throws Exception {
        if (budget < 1) {
            throw new IllegalArgumentException("--budget: got " + budget + "; at least one config must be tried");
        }
        if (reps < 1) {
            throw new IllegalArgumentException("--reps: got " + reps + "; must be >= 1");
        }
        if (warmup < 0) {
            throw new IllegalArgumentException("--warmup: got " + warmup + "; must be >= 0");
        }
        Precision precision = precisionOption.parse();
        DType storage = DTypeOption.parse(dtype);
        DTypeOption.checkPrecision(storage, precision);
        BackendChoice choice = BackendChoice.parse(backend);
        if (choice == BackendChoice.CPU) {
            throw new IllegalArgumentException("--backend: cpu is the Java path, which has no kernels to tune; use "
                    + "opencl");
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        BenchSuite chosen = SuiteOption.load(suite).select(shapes);
        // An explicit OpenCL device, even for auto: tuning the Java path is meaningless.
        ConvBackend shared = Backends.select(BackendChoice.OPENCL);
        OpenClDevice device = ((OpenClBackend) shared).device();
        boolean gpuBatch = batch == null ? device.isGpuOrAccelerator() : parseBatch(batch);
        TuningDatabase database = TuningDatabase.forDevice(device);
        out.printf(Locale.ROOT, "device: %s%n", DevicePaths.deviceName(shared));
        out.printf(Locale.ROOT, "database: %s%n", database.file().map(Path::toString)
                .orElse("(none: no cache directory; results are not kept)"));
        if (storage != DType.FLOAT32) {
            out.printf(Locale.ROOT, "dtype: %s%n", storage.cliName());
        }
        out.printf(Locale.ROOT, "%-16s %5s %6s %8s %11s %11s %8s  %s%n", "shape", "batch", "tried", "rejected",
                "default_ms", "best_ms", "speedup", "config");
        boolean anyRejected = false;
        boolean allSolved = true;
        // A private context: the candidates' plans are released with it, not kept by the shared backend.
        try (OpenClBackend tuning = OpenClBackend.create(device)) {
            Tuner tuner = new Tuner(tuning, database, reps, warmup, line -> {
                err.println(line);
                err.flush();
            });
            for (BenchShape shape : chosen.shapes()) {
                int n = gpuBatch ? shape.batchGpu() : shape.batchCpu();
                // TF32 and 16-bit geometries are tuned and recorded apart from float32 ones (their kernels differ).
                ConvGeometry g = shape.spec().toBuilder().precision(precision).build()
                        .resolve(shape.inputShape(n), shape.kernelShape()).withStorage(storage);
                err.printf(Locale.ROOT, "tune: %s (batch %d) ...%n", shape.name(), n);
                Tuner.Outcome outcome = tuner.tune(g, budget);
                anyRejected |= outcome.rejectedCount() > 0;
                allSolved &= outcome.best() != null;
                printRow(out, shape.name(), n, outcome);
                out.flush();
            }
        }
        if (anyRejected) {
            err.println("tune: some candidates were rejected (see above); they are never chosen");
        }
        // A shape where no candidate computed the right result is a kernel bug: fail loudly.
        return allSolved ? Main.EXIT_OK : Main.EXIT_IO;
    }

    private static void printRow(PrintWriter out, String name, int batch, Tuner.Outcome outcome) {
        Tuner.Trial untuned = outcome.untuned();
        Tuner.Trial best = outcome.best();
        String defaultMs = untuned.accepted() ? String.format(Locale.ROOT, "%.3f", untuned.ms()) : "rejected";
        String bestMs = best == null ? "-" : String.format(Locale.ROOT, "%.3f", best.ms());
        String speedup = best == null || !untuned.accepted() ? "-"
                : String.format(Locale.ROOT, "%.2fx", untuned.ms() / best.ms());
        out.printf(Locale.ROOT, "%-16s %5d %6d %8d %11s %11s %8s  %s%n", name, batch, outcome.trials().size(),
                outcome.rejectedCount(), defaultMs, bestMs, speedup, best == null ? "(none accepted)" : best.config());
    }

    private static boolean parseBatch(String text) {
        return switch (text.trim().toLowerCase(Locale.ROOT)) {
            case "gpu" -> true;
            case "cpu" -> false;
            default -> throw new IllegalArgumentException("--batch: got '" + text + "'; expected cpu or gpu");
        };
    }
}
