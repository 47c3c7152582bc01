package org.convcl.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.convcl.DType;
import org.convcl.Layout;
import org.convcl.Precision;
import org.convcl.Tensor;
import org.convcl.backend.BackendChoice;
import org.convcl.backend.ConvBackend;
import org.convcl.bench.DevicePaths;
import org.convcl.examples.LogitsComparison;
import org.convcl.examples.ResNet;
import org.convcl.examples.ResNetArch;
import org.convcl.examples.ResNetMemory;
import org.convcl.examples.ResNetWeights;
import org.convcl.internal.Json;
import org.convcl.nn.Backends;
import org.convcl.opencl.OpenClBackend;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code convcl resnet}: torchvision's ResNet-50 or ResNet-18 ({@link ResNet}) from a folder that
 * {@code scripts/export-resnet} writes, checked against PyTorch's logits on the folder's reference batch, then
 * timed. The folder and every option are checked before a backend is chosen or anything is built; the JSON report
 * is written last.
 */
@Command(name = "resnet", mixinStandardHelpOptions = true, sortOptions = false, sortSynopsis = false,
        usageHelpWidth = 100,
        versionProvider = Version.class,
        header = "Runs torchvision's ResNet-50 or ResNet-18 on convcl, checks it against PyTorch and times it.",
        description = {"",
            "Reads the folder DIR that scripts/export-resnet writes (torchvision's weights, one .npy per state_dict "
                + "tensor, a reference batch input.npy and PyTorch's logits.npy for it), builds the network from "
                + "Conv layers with the batch norms folded into their epilogues (ReLU and the residual add fused), "
                + "runs the reference batch and prints max_rel_err = max|got - ref| / max|ref| against PyTorch's "
                + "logits and whether every image's top-5 classes are PyTorch's. Then it times batches of N images "
                + "(the reference images repeated): --warmup batches (more until --warmup-ms have passed), then the "
                + "median of --reps batches, as images/s. On OpenCL a batch is one upload, the whole forward on the device, one download.",
            "Progress goes to stderr, the results to stdout. Exit 1 when max_rel_err exceeds the target (1e-4, "
                + "5e-3 with --precision tf32, " + ResNetCommand.FLOAT16_TARGET + " with --dtype float16, "
                + ResNetCommand.BFLOAT16_TARGET + " with --dtype bfloat16).",
            ""},
        footerHeading = "%nExit codes:%n",
        footer = {"  0  success: the network ran within the error target (and --json was written)",
            "  1  max_rel_err above the target (the results are still printed and written), or a file failed "
                + "once begun",
            "  2  invalid command line, or a weights folder with a missing file, a tensor of the wrong shape or "
                + "dtype, or another architecture: refused before any work, nothing written",
            "", "Examples:",
            "  scripts/export-resnet /tmp/r50 --arch resnet50",
            "  convcl resnet --weights /tmp/r50 --batch 8 --backend cpu --json r50.json"})
final class ResNetCommand implements Callable<Integer> {
    /** The error target in float32 (the issue's) and in TF32 (11 significant bits per operand; bench's too). */
    static final double HIGHEST_TARGET = 1e-4;
    static final double TF32_TARGET = 5e-3;
    /**
     * The targets in float16 and bfloat16, measured rather than bounded. Every layer rounds its output to the type
     * (unit roundoff u = 2^-11 and 2^-8; the kernels are rounded once too), and ResNet-50 chains 53 convolutions:
     * the logits carry every layer's rounding, grown or damped by the layers after it, and the logits are a small
     * sum of larger terms (the classifier's 2048 products; max|logit| is about 2 on the exported network), so an
     * error bound built from per-layer roundoff would be far above what happens. Measured on scripts/export-resnet's
     * ResNet-50 (its 2 reference images) against PyTorch's float64 logits: max_rel_err 1.858e-2 (38 u) in float16
     * and 1.245e-1 (32 u) in bfloat16, the same to four digits on the Java path and on PoCL, so the error is the
     * type's rounding, not a path's. Each target is the measurement times about 2.5, for other weights and images.
     */
    static final double FLOAT16_TARGET = 5e-2;
    static final double BFLOAT16_TARGET = 3e-1;

    @Option(names = "--weights", required = true, paramLabel = "DIR",
            description = "The folder scripts/export-resnet wrote.")
    private Path weights;

    @Option(names = "--arch", paramLabel = "resnet50|resnet18",
            description = "The architecture the folder must hold (default: the one its manifest names).")
    private String arch;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "1",
            description = "Images per timed batch, >= 1. Default: ${DEFAULT-VALUE}.")
    private int batch;

    @Mixin
    private BackendOption backend;

    @Option(names = "--layout", paramLabel = "channels-first|channels-last", defaultValue = "channels-last",
            description = "channels-first: PyTorch's weights as they are, images NCHW; channels-last: the weights "
                    + "transposed once at load, images NHWC (convcl's native layout, the faster). "
                    + "Default: ${DEFAULT-VALUE}.")
    private String layout;

    @Mixin
    private PrecisionOption precisionOption;

    @Option(names = "--dtype", paramLabel = "float32|float16|bfloat16", defaultValue = "float32",
            description = "The type the network computes in: float32, float16 or bfloat16. In a 16-bit type the "
                    + "batch is rounded to it, every layer rounds its output to it (products summed in float32, the "
                    + "folded norms' scale and shift kept float32) and the logits are compared widened to float32. "
                    + "16-bit types take --precision highest only. Default: ${DEFAULT-VALUE}.")
    private String dtypeText;

    @Option(names = "--reps", paramLabel = "R", defaultValue = "5",
            description = "Timed batches, >= 1; the median is reported. Default: ${DEFAULT-VALUE}.")
    private int reps;

    @Option(names = "--warmup", paramLabel = "W", defaultValue = "2",
            description = "Untimed batches first, >= 0. Default: ${DEFAULT-VALUE}.")
    private int warmup;

    /** Most warm-up batches the time rule adds: a slow backend stops there rather than warming up for minutes. */
    private static final int MAX_WARMUP_BATCHES = 200;

    @Option(names = "--warmup-ms", paramLabel = "MS", defaultValue = "2000",
            description = "Warm-up continues past --warmup batches until the warm-up batches took this long, at "
                    + "most " + MAX_WARMUP_BATCHES + " batches, so that the JIT's final code is what is timed (a few "
                    + "batch-1 forwards are over before the Java path's kernels are compiled). Default: "
                    + "${DEFAULT-VALUE}.")
    private double warmupMillis;

    @Option(names = "--memory",
            description = "Also report what the forwards hold, after the timed batches (MB, and in --json under "
                    + "\"memory\", bytes): the layers' parameters; on the Java path the kernels' prepared forms, "
                    + "the kernel snapshots they are checked against and the activation arrays (the most in use at "
                    + "once, and held); on OpenCL the device buffers the caching allocator created, the most of "
                    + "them in use at once and how many the last batch created; the float arrays live in the heap "
                    + "(a class histogram, after a collection).")
    private boolean memory;

    @Option(names = "--json", paramLabel = "FILE",
            description = "Also write the results as JSON (arch, layout, dtype, backend, device, batch, max_rel_err, "
                    + "top5_agree, images_per_s, median_ms, reps; memory with --memory).")
    private Path json;

    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (batch < 1) {
            throw new IllegalArgumentException("--batch: got " + batch + "; must be >= 1");
        }
        if (reps < 1) {
            throw new IllegalArgumentException("--reps: got " + reps + "; must be >= 1");
        }
        if (warmup < 0) {
            throw new IllegalArgumentException("--warmup: got " + warmup + "; must be >= 0");
        }
        if (!(warmupMillis >= 0) || Double.isInfinite(warmupMillis)) {
            throw new IllegalArgumentException("--warmup-ms: got " + warmupMillis + "; must be a number >= 0");
        }
        ResNetArch wanted = arch == null ? null : ResNetArch.parse("--arch", arch);
        Layout chosenLayout = LayoutOption.parse(layout);
        Precision precision = precisionOption.parse();
        DType dtype = DTypeOption.parse(dtypeText);
        DTypeOption.checkPrecision(dtype, precision);
        BackendChoice choice = backend.parse();
        if (json != null) {
            PathChecks.checkOutput("--json", json);
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        // No progress line before this: a refused folder gets the one line of the CLI's contract, nothing else.
        ResNetWeights folder = ResNetWeights.read(weights, wanted);
        Tensor reference = folder.referenceInput();
        Tensor referenceLogits = folder.referenceLogits();

        ConvBackend target = Backends.select(choice);
        String device = DevicePaths.deviceName(target);
        String archName = folder.plan().arch().toString();
        String precisionName = precision.name().toLowerCase(java.util.Locale.ROOT);
        progress(err, "building " + archName + " (" + chosenLayout + ", " + precisionName + ", " + dtype.cliName()
                + ") on " + target.name());
        ResNet built = ResNet.build(folder, chosenLayout, precision, dtype, target);
        // The network holds what it needs; dropping the folder lets the channels-last build's source weights go
        // (channels-first layers hold those very arrays).
        folder = null;
        try (ResNet net = built) {
            progress(err, "reference batch " + Arrays.toString(reference.shape()));
            LogitsComparison accuracy = LogitsComparison.of(net.forward(net.imagesInLayout(reference)),
                    referenceLogits);
            Tensor images = net.imagesInLayout(tiled(reference, batch));
            long warmupStart = System.nanoTime();
            for (int i = 0; i < warmup || (i < MAX_WARMUP_BATCHES
                    && (System.nanoTime() - warmupStart) / 1e6 < warmupMillis); i++) {
                progress(err, "warm-up " + (i + 1) + " (batch " + batch + ")");
                net.forward(images);
            }
            double[] millis = new double[reps];
            long lastBatchBuffers = 0;
            for (int i = 0; i < reps; i++) {
                long buffersBefore = buffersCreated(target);
                long start = System.nanoTime();
                net.forward(images);
                millis[i] = (System.nanoTime() - start) / 1e6;
                lastBatchBuffers = buffersCreated(target) - buffersBefore;
                progress(err, String.format("timed %d/%d: %.1f ms", i + 1, reps, millis[i]));
            }
            ResNetMemory held = memory ? ResNetMemory.of(net, lastBatchBuffers) : null;
            double median = median(millis);
            double imagesPerSecond = batch * 1000.0 / median;
            double target_ = target(dtype, precision);

            out.printf("resnet: %s, %s, %s backend, precision %s, dtype %s%n", archName, chosenLayout, target.name(),
                    precisionName, dtype.cliName());
            out.printf("device: %s%n", device);
            out.printf("max_rel_err  %.3e  (target %.0e; against PyTorch's logits, %d reference images)%n",
                    accuracy.maxRelErr(), target_, accuracy.images());
            out.printf("top5_agree   %s  (%d/%d images)%n", accuracy.top5Agree(), accuracy.imagesAgreeing(),
                    accuracy.images());
            out.printf("%-6s %10s %13s %5s%n", "batch", "median_ms", "images_per_s", "reps");
            out.printf("%-6d %10.2f %13.2f %5d%n", batch, median, imagesPerSecond, reps);
            if (held != null) {
                held.lines().forEach(out::println);
            }
            out.flush();
            if (json != null) {
                Map<String, Object> report = new LinkedHashMap<>();
                report.put("arch", archName);
                report.put("layout", chosenLayout.toString());
                report.put("dtype", dtype.cliName());
                report.put("backend", target instanceof OpenClBackend ? "opencl" : "cpu");
                report.put("device", device);
                report.put("batch", batch);
                report.put("max_rel_err", accuracy.maxRelErr());
                report.put("top5_agree", accuracy.top5Agree());
                report.put("images_per_s", imagesPerSecond);
                report.put("median_ms", median);
                report.put("reps", reps);
                if (held != null) {
                    report.put("memory", held.json());
                }
                String text = Json.write(report) + "\n";
                StagedOutput.write("--json", json, temporary -> Files.writeString(temporary, text));
            }
            if (!(accuracy.maxRelErr() <= target_)) {
                err.printf("resnet: max_rel_err %.3e exceeds the target %.0e%n", accuracy.maxRelErr(), target_);
                return Main.EXIT_IO;
            }
            return Main.EXIT_OK;
        }
    }

    /** The error target of a run in {@code dtype} at {@code precision} (a 16-bit type is at highest). */
    static double target(DType dtype, Precision precision) {
        return switch (dtype) {
            case FLOAT16 -> FLOAT16_TARGET;
            case BFLOAT16 -> BFLOAT16_TARGET;
            case FLOAT32 -> precision == Precision.TF32 ? TF32_TARGET : HIGHEST_TARGET;
        };
    }

    /** Device buffers the backend's allocator has created so far; 0 on the Java path. */
    private static long buffersCreated(ConvBackend backend) {
        return backend instanceof OpenClBackend device ? device.buffersCreated() : 0;
    }

    private static void progress(PrintWriter err, String message) {
        err.println("resnet: " + message + " ...");
        err.flush();
    }

    /** {@code n} images: the reference's, repeated in order, as many times as it takes. */
    static Tensor tiled(Tensor reference, int n) {
        int[] shape = reference.shape();
        int imageSize = reference.size() / shape[0];
        float[] data = new float[Math.multiplyExact(n, imageSize)];
        for (int i = 0; i < n; i++) {
            System.arraycopy(reference.data(), (i % shape[0]) * imageSize, data, i * imageSize, imageSize);
        }
        shape[0] = n;
        return Tensor.of(data, shape);
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int mid = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
