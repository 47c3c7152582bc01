package org.convcl.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.convcl.DType;
import org.convcl.Precision;
import org.convcl.backend.BackendChoice;
import org.convcl.nn.Backends;
import org.convcl.backend.ConvBackend;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.bench.BenchResult;
import org.convcl.bench.BenchRunner;
import org.convcl.bench.BenchShape;
import org.convcl.bench.BenchSuite;
import org.convcl.bench.BenchTable;
import org.convcl.bench.DevicePaths;
import org.convcl.bench.HalfBenchRun;
import org.convcl.bench.LinkSpeed;
import org.convcl.bench.NetworkTotal;
import org.convcl.opencl.OpenClBackend;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code convcl bench}: times the benchmark suite; every figure in docs/PERFORMANCE.md comes from here. */
@Command(name = "bench", mixinStandardHelpOptions = true, usageHelpWidth = 100,
        header = "Times the benchmark suite and checks each result against a float64 reference.",
        description = {"",
            "The suite is the project's bench/shapes.json, embedded, unless --suite names an embedded network "
                + "suite (resnet50, resnet18; their table ends with the network's count-weighted total) or a file. "
                + "Random inputs, "
                + "warm-up, median over --reps runs, outputs poisoned with NaN before every run, and "
                + "max_rel_err = max|got - ref| / max|ref| against a float64 reference on one whole batch element.",
            "Each float32 shape is also timed, in turn with the bare call run by run, with epilogues fused into the "
                + "convolution's store: epilogue_ms with a residual + ReLU, activation_ms with a per-channel scale + "
                + "shift + ReLU and no residual (a conv + folded batch norm + ReLU layer), inplace_ms with the "
                + "residual + ReLU written over the residual (its array is the output, as in a ResNet block's last "
                + "convolution); unfused_ms is the residual + ReLU work as separate passes. Compare them with ms "
                + "on the Java path, with call_ms on a device. The JSON's fused_over_bare_bytes is (epilogue_ms / "
                + "bare) / (bytes moved with the residual / bytes moved bare): above 1 by what the epilogue costs "
                + "beyond its residual's bytes.",
            "Progress goes to stderr, the table to stdout. Exit 1 when any result exceeds --max-error."})
public final class BenchCommand implements Callable<Integer> {

    @Option(names = "--suite", paramLabel = SuiteOption.LABEL, description = SuiteOption.DESCRIPTION)
    String suite;

    @Option(names = "--backend", paramLabel = "auto|cpu|opencl", defaultValue = "auto",
            description = "Backend to time (default: ${DEFAULT-VALUE}).")
    String backend;

    @Option(names = "--batch", paramLabel = "cpu|gpu",
            description = "Which batch of the suite to use (default: gpu on a GPU device, else cpu).")
    String batch;

    @Option(names = "--shapes", split = ",", paramLabel = "NAME", description = "Only these shapes (comma-separated).")
    List<String> shapes = new ArrayList<>();

    @Option(names = "--reps", defaultValue = "10", description = "Timed runs per shape (default: ${DEFAULT-VALUE}).")
    int reps;

    @Option(names = "--warmup", defaultValue = "3", description = "Untimed runs first (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--warmup-ms", defaultValue = "1000", paramLabel = "MS",
            description = "Warm-up of the interleaved bare, fused and unfused calls continues past --warmup runs "
                    + "until the bare calls took this long, at most 200 runs, so that the JIT's final code is what "
                    + "is timed (default: ${DEFAULT-VALUE}).")
    double warmupMillis;

    @Option(names = "--single-thread", description = "Run the Java path on one thread, for comparison.")
    boolean singleThread;

    @Mixin
    private PrecisionOption precisionOption;

    @Option(names = "--dtype", paramLabel = "float32|float16|bfloat16", defaultValue = "float32",
            description = "How operands and output are stored: float32, float16 or bfloat16 (float32 "
                    + "accumulation). A 16-bit run on OpenCL times the forward on 16-bit device tensors (ms: "
                    + "float32 host arrays in and out, rounded on the device); on the Java path, ms is its forward "
                    + "on 16-bit host arrays (short bits in and out). Either is checked against float64 on the "
                    + "rounded operands, and leaves chain_ms, epilogue_ms, unfused_ms, activation_ms and inplace_ms "
                    + "unmeasured (-). "
                    + "moved_mb is what one call reads and writes at the type's size. Default: ${DEFAULT-VALUE}.")
    String dtypeText;

    @Option(names = "--max-error", paramLabel = "E",
            description = "Largest acceptable max_rel_err (default: 1e-4, with --precision tf32 5e-3; with --dtype "
                    + "the type's unit roundoff plus 1e-4: 5.9e-4 for float16, 4.0e-3 for bfloat16).")
    Double maxError;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the results as JSON.")
    Path json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (reps < 1) {
            throw new IllegalArgumentException("--reps: got " + reps + "; must be >= 1");
        }
        if (!(warmupMillis >= 0) || Double.isInfinite(warmupMillis)) {
            throw new IllegalArgumentException("--warmup-ms: got " + warmupMillis + "; must be a number >= 0");
        }
        if (warmup < 0) {
            throw new IllegalArgumentException("--warmup: got " + warmup + "; must be >= 0");
        }
        Precision precision = precisionOption.parse();
        DType dtype = DTypeOption.parse(dtypeText);
        if (dtype != DType.FLOAT32 && precision != Precision.HIGHEST) {
            throw new IllegalArgumentException("--precision " + precision.cliName() + " given with --dtype "
                    + dtype.cliName() + ": TF32 rounds float32 operands; 16-bit operands are multiplied in float32 "
                    + "already, so --precision must be highest");
        }
        if (maxError == null) {
            // TF32 keeps 11 significant bits of each operand: its own accuracy target, the 5e-3.
            maxError = precision == Precision.TF32 ? 5e-3 : HalfBenchRun.defaultMaxError(dtype);
        }
        if (!(maxError >= 0) || Double.isInfinite(maxError)) {
            throw new IllegalArgumentException("--max-error: got " + maxError + "; must be a finite number >= 0");
        }
        // The files first, so that a bad path is refused before a run of minutes, not after it.
        Path suiteFile = SuiteOption.file(suite);
        if (json != null) {
            PathChecks.checkOutput("--json", json);
            PathChecks.checkNotAnInput("--json", json, suiteFile == null ? Map.of() : Map.of("--suite", suiteFile));
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        BenchSuite chosen = SuiteOption.load(suite).select(shapes);
        BackendChoice choice = BackendChoice.parse(backend);
        if (singleThread && choice == BackendChoice.OPENCL) {
            throw new IllegalArgumentException("--single-thread: applies to the cpu backend, not opencl");
        }
        ConvBackend target = singleThread ? CpuBackend.sequential() : Backends.select(choice);
        String device = DevicePaths.deviceName(target);
        boolean gpuBatch = batch == null ? DevicePaths.isGpu(target) : parseBatch(batch);
        BenchRunner runner = new BenchRunner(target, DevicePaths.forBackend(target), reps, warmup, warmupMillis);
        HalfBenchRun halfRun = dtype == DType.FLOAT32 ? null
                : new HalfBenchRun(target, dtype, reps, warmup);
        LinkSpeed link = target instanceof OpenClBackend openCl ? LinkSpeed.measure(openCl) : null;
        BenchTable.printHeader(out, device, target.name(), precision, dtype, link);
        List<BenchResult> results = new ArrayList<>();
        boolean allAccurate = true;
        for (BenchShape shape : chosen.shapes()) {
            int n = gpuBatch ? shape.batchGpu() : shape.batchCpu();
            err.printf("bench: %s (batch %d) ...%n", shape.name(), n);
            err.flush();
            BenchResult result = halfRun != null ? halfRun.run(shape, n) : runner.run(shape, n, precision);
            BenchTable.printRow(out, result);
            out.flush();
            results.add(result);
            if (result.epilogueNote() != null) {
                err.printf("bench: %s %s%n", shape.name(), result.epilogueNote());
            }
            if (!(result.maxRelErr() <= maxError)) {
                err.printf("bench: %s max_rel_err %.3e exceeds %.1e%n", shape.name(), result.maxRelErr(),
                        maxError);
                allAccurate = false;
            }
        }
        if (chosen.counted()) {
            BenchTable.printNetworkTotal(out, NetworkTotal.of(chosen.shapes(), results));
        }
        if (json != null) {
            String report = BenchTable.json(device, target.name(), precision, dtype, link, results,
                    chosen.shapes());
            StagedOutput.write("--json", json, temporary -> Files.writeString(temporary, report));
        }
        return allAccurate ? 0 : 1;
    }

    private static boolean parseBatch(String text) {
        return switch (text.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "gpu" -> true;
            case "cpu" -> false;
            default -> throw new IllegalArgumentException("--batch: got '" + text + "'; expected cpu or gpu");
        };
    }
}
