package org.convcl.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.convcl.Tensor;
import org.convcl.examples.ResNetArch;
import org.convcl.examples.ResNetPlan;
import org.convcl.internal.Json;
import org.convcl.testing.RandomTensors;
import org.convcl.testing.TorchResNet;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** {@code convcl resnet} in-process on a small random ResNet-18 folder (the Java path): its results and refusals. */
class CliResNetTest {
    /** The keys scripts/bench-vs-peers reads from --json. */
    private static final List<String> JSON_KEYS = List.of("arch", "layout", "dtype", "backend", "device", "batch",
            "max_rel_err", "top5_agree", "images_per_s", "median_ms", "reps");

    @TempDir
    Path dir;
    private Path weights;
    private Path json;

    @BeforeEach
    void writeSmallResNet() throws IOException {
        weights = dir.resolve("r18");
        TorchResNet.random("resnet18", 4, 10, 3)
                .writeFolder(weights, RandomTensors.uniform(new SplittableRandom(4), 2, 3, 32, 32));
        json = dir.resolve("report.json");
    }

    @Test
    void printsAccuracyAndSpeedAndWritesTheJsonReport() throws IOException {
        CliRun run = CliRun.of("resnet", "--weights", weights.toString(), "--arch", "resnet18", "--batch", "3",
                "--backend", "cpu", "--layout", "channels-first", "--reps", "2", "--warmup", "1", "--warmup-ms", "0",
                "--json", json.toString());
        run.assertSuccess();
        assertTrue(run.stdout().contains("resnet: resnet18, channels-first, cpu backend, precision highest, "
                + "dtype float32"), run.stdout());
        assertTrue(run.stdout().contains("top5_agree   true  (2/2 images)"), run.stdout());
        assertTrue(run.stderr().contains("resnet: timed 2/2"), "progress on stderr: " + run.stderr());
        Map<String, Object> report = Json.parseObject(Files.readString(json));
        assertEquals(JSON_KEYS, List.copyOf(report.keySet()));
        assertEquals("resnet18", report.get("arch"));
        assertEquals("channels-first", report.get("layout"));
        assertEquals("float32", report.get("dtype"));
        assertEquals("cpu", report.get("backend"));
        assertEquals(3, report.get("batch"));
        assertEquals(2, report.get("reps"));
        assertEquals(true, report.get("top5_agree"));
        double error = ((Number) report.get("max_rel_err")).doubleValue();
        assertTrue(error <= ResNetCommand.HIGHEST_TARGET, "max_rel_err " + error);
        assertTrue(run.stdout().contains(String.format("max_rel_err  %.3e", error)), run.stdout());
        double millis = ((Number) report.get("median_ms")).doubleValue();
        double rate = ((Number) report.get("images_per_s")).doubleValue();
        assertEquals(3 * 1000.0 / millis, rate, 1e-9 * rate, "images/s is the batch over the median");
    }

    @Test
    void runsInFloat16AgainstItsTarget() throws IOException {
        CliRun run = CliRun.of("resnet", "--weights", weights.toString(), "--backend", "cpu", "--dtype", "FLOAT16",
                "--reps", "1", "--warmup", "0", "--warmup-ms", "0", "--json", json.toString());
        run.assertSuccess();
        assertTrue(run.stdout().contains("precision highest, dtype float16"), run.stdout());
        assertTrue(run.stdout().contains(String.format("(target %.0e;", ResNetCommand.FLOAT16_TARGET)),
                run.stdout());
        Map<String, Object> report = Json.parseObject(Files.readString(json));
        assertEquals("float16", report.get("dtype"));
        double error = ((Number) report.get("max_rel_err")).doubleValue();
        // Above float32's target (the logits are float16 values), within float16's.
        assertTrue(error > ResNetCommand.HIGHEST_TARGET && error <= ResNetCommand.FLOAT16_TARGET,
                "max_rel_err " + error);
    }

    @Test
    void reportsWhatTheForwardsHoldWithMemory() throws IOException {
        CliRun run = CliRun.of("resnet", "--weights", weights.toString(), "--batch", "3", "--backend", "cpu",
                "--reps", "1", "--warmup", "1", "--warmup-ms", "0", "--memory", "--json", json.toString());
        run.assertSuccess();
        assertTrue(run.stdout().contains("memory_mb    parameters "), run.stdout());
        Map<?, ?> memory = (Map<?, ?>) Json.parseObject(Files.readString(json)).get("memory");
        // The folded layers hold each conv weight, the norms' weight and bias as scale and shift, and fc's: every
        // tensor of the folder but the running statistics.
        long floats = 0;
        for (Map.Entry<String, int[]> tensor : ResNetPlan.of(ResNetArch.RESNET18, 4, 10).tensorShapes().entrySet()) {
            if (!tensor.getKey().endsWith(".running_mean") && !tensor.getKey().endsWith(".running_var")) {
                floats += Tensor.elementCount(tensor.getValue());
            }
        }
        assertEquals(floats * Float.BYTES, bytes(memory, "parameter_bytes"));
        assertEquals(-1L, bytes(memory, "device_buffers_created_by_last_batch"), "no device on the Java path");
        long peak = bytes(memory, "activation_peak_bytes");
        long held = bytes(memory, "activation_held_bytes");
        assertTrue(peak > 0 && peak <= held, memory.toString());
        assertTrue(bytes(memory, "live_float_array_bytes") >= bytes(memory, "parameter_bytes") + held,
                "the live float arrays count the parameters and the activations: " + memory);
    }

    private static long bytes(Map<?, ?> memory, String key) {
        return ((Number) memory.get(key)).longValue();
    }

    static Stream<Arguments> refusals() {
        return Stream.of(
                Arguments.of(List.of("--arch", "resnet50"), "holds resnet18"),
                Arguments.of(List.of("--arch", "resnet34"), "--arch: got 'resnet34'"),
                Arguments.of(List.of("--batch", "0"), "--batch: got 0"),
                Arguments.of(List.of("--reps", "0"), "--reps: got 0"),
                Arguments.of(List.of("--warmup", "-1"), "--warmup: got -1"),
                Arguments.of(List.of("--warmup-ms", "-5"), "--warmup-ms: got -5.0"),
                Arguments.of(List.of("--layout", "nchw"), "--layout: got 'nchw'"),
                Arguments.of(List.of("--precision", "half"), "--precision: got 'half'"),
                Arguments.of(List.of("--dtype", "half"), "--dtype: got 'half'"),
                Arguments.of(List.of("--dtype", "float16", "--precision", "tf32"),
                        "--precision tf32 given with --dtype float16"),
                Arguments.of(List.of("--backend", "gpu"), "gpu"));
    }

    @ParameterizedTest
    @MethodSource("refusals")
    void refusesBeforeAnyWorkAndWritesNothing(List<String> options, String expected) {
        List<String> args = new java.util.ArrayList<>(List.of("resnet", "--weights", weights.toString(),
                "--json", json.toString()));
        args.addAll(options);
        if (!options.contains("--backend")) {
            args.addAll(List.of("--backend", "cpu"));
        }
        String line = CliRun.of(args).assertFailure(Main.EXIT_INVALID, json);
        assertTrue(line.contains(expected), line);
    }

    @Test
    void refusesAFolderWithATensorMissing() throws IOException {
        Files.delete(weights.resolve("layer3.1.conv2.weight.npy"));
        String line = CliRun.of("resnet", "--weights", weights.toString(), "--backend", "cpu", "--json",
                json.toString()).assertFailure(Main.EXIT_INVALID, json);
        assertTrue(line.contains("layer3.1.conv2.weight.npy: missing"), line);
    }

    @Test
    void refusesAMissingFolder() {
        String line = CliRun.of("resnet", "--weights", dir.resolve("absent").toString(), "--backend", "cpu")
                .assertFailure(Main.EXIT_INVALID, null);
        assertTrue(line.contains("--weights") && line.contains("absent"), line);
    }
}
