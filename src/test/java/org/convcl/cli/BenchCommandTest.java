package org.convcl.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.convcl.bench.BenchShape;
import org.convcl.bench.BenchSuite;
import org.convcl.testing.NaiveConv;
import org.convcl.testing.OpenClTesting;
import org.convcl.testing.Reference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code convcl bench} on a tiny suite: the table and the documented JSON report, the suite's GFLOP formula
 * (checked against the output shape of the independent float64 reference), results checked against the
 * reference, device times and the link only where there is a device, and bad arguments refused.
 */
class BenchCommandTest {
    private static final String TINY_SUITE = """
            {"shapes": [
              {"name": "dense2d", "spatial": [9, 7], "cin": 8, "cout": 12, "kernel": [3, 2],
               "strides": [2, 1], "kernel_dilation": [1, 2], "input_dilation": [1, 1], "padding": "SAME",
               "groups": 1, "batch_cpu": 2, "batch_gpu": 3},
              {"name": "depthwise1d", "spatial": [17], "cin": 6, "cout": 12, "kernel": [3],
               "strides": [1], "kernel_dilation": [1], "input_dilation": [2], "padding": [[2, 1]],
               "groups": 6, "batch_cpu": 2, "batch_gpu": 3}]}
            """;

    /** The device-resident times of a result: null on the Java path, positive on OpenCL. */
    private static final List<String> DEVICE_TIMES = List.of("device_ms", "call_ms", "chain_ms");
    /**
     * The conv with a residual + ReLU epilogue, fused and unfused, with a fused scale + shift + ReLU, and with the
     * residual + ReLU written over the residual: measured on the Java path.
     */
    private static final List<String> EPILOGUE_TIMES = List.of("epilogue_ms", "unfused_ms", "activation_ms",
            "inplace_ms");

    @TempDir
    Path directory;
    private Path suite;

    @BeforeEach
    void writeSuite() throws IOException {
        suite = directory.resolve("suite.json");
        Files.writeString(suite, TINY_SUITE);
    }

    @Test
    void javaPathReportsEveryShapeChecked() throws IOException {
        Map<String, Object> report = benchAndRead("cpu", "cpu");
        assertEquals("cpu", String.valueOf(report.get("backend")).split(" ")[0], "backend: " + report);
        assertNull(report.get("link"), "the Java path has no host-device link: " + report);
        for (Map<String, Object> result : results(report)) {
            for (String key : DEVICE_TIMES) {
                assertNull(result.get(key), "the Java path has no device-resident time: " + result);
            }
            for (String key : EPILOGUE_TIMES) {
                assertTrue(number(result, key) > 0 && Double.isFinite(number(result, key)),
                        "the Java path times the epilogue: " + key + ": " + result);
            }
            assertNull(result.get("epilogue_note"), "nothing left unmeasured: " + result);
            assertFusedOverBareBytes(result, number(result, "ms"));
        }
    }

    @Test
    void openClReportsDeviceCallAndChainTimesAndTheLink() throws IOException {
        OpenClTesting.device();
        Map<String, Object> report = benchAndRead("opencl", "gpu");
        for (Map<String, Object> result : results(report)) {
            for (String key : DEVICE_TIMES) {
                assertNotNull(result.get(key), key + " is measured on OpenCL: " + result);
                assertTrue(number(result, key) > 0, key + ": " + result);
            }
            // Each epilogue time is measured, or null with the note saying why (a device without the kernels yet).
            for (String key : EPILOGUE_TIMES) {
                assertTrue(result.get(key) == null ? String.valueOf(result.get("epilogue_note")).contains(key)
                        : number(result, key) > 0, key + ": " + result);
            }
            if (result.get("epilogue_ms") != null) {
                assertFusedOverBareBytes(result, number(result, "call_ms"));
            }
            // The kernels' own time is part of a synchronised call's wall time, never more.
            assertTrue(number(result, "device_ms") <= number(result, "call_ms"), "device_ms <= call_ms: " + result);
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> link = (Map<String, Object>) report.get("link");
        assertNotNull(link, "the report has the link's speed: " + report);
        assertTrue(number(link, "h2d_gbps") > 0 && number(link, "d2h_gbps") > 0, "link: " + link);
    }

    /** Runs the tiny suite, checks the table and every result, and returns the JSON report. */
    private Map<String, Object> benchAndRead(String backend, String batch) throws IOException {
        Path json = directory.resolve("report-" + backend + ".json");
        CliRun run = CliRun.of("bench", "--suite", suite.toString(), "--backend", backend, "--batch", batch,
                "--reps", "3", "--warmup", "1", "--warmup-ms", "0", "--json", json.toString());
        assertEquals(0, run.exitCode(), run.stderr());
        assertTrue(run.stdout().startsWith("device: "), run.stdout());
        assertTrue(run.stderr().contains("bench: dense2d (batch"), "progress on stderr: " + run.stderr());
        Map<String, Object> report = JSON.std.mapFrom(Files.readString(json));
        assertNotNull(report.get("device"), "the report names the device");
        List<Map<String, Object>> results = results(report);
        List<BenchShape> shapes = BenchSuite.load(suite).shapes();
        assertEquals(shapes.size(), results.size(), "one result per shape");
        for (int i = 0; i < shapes.size(); i++) {
            BenchShape shape = shapes.get(i);
            Map<String, Object> result = results.get(i);
            assertEquals(shape.name(), result.get("name"));
            int n = batch.equals("gpu") ? shape.batchGpu() : shape.batchCpu();
            assertEquals(n, ((Number) result.get("batch")).intValue(), "the batch asked for: " + result);
            assertEquals(expectedGflop(shape, n), number(result, "gflop"), 1e-12, shape.name());
            assertTrue(number(result, "ms") > 0, "ms: " + result);
            assertTrue(number(result, "max_rel_err") <= 1e-5, "checked against float64: " + result);
            assertEquals(number(result, "gflop") / (best(result) / 1e3), number(result, "gflops"), 1e-6,
                    "gflops is gflop over the fastest path's time");
            assertTrue(run.stdout().lines().anyMatch(line -> line.startsWith(shape.name() + " ")),
                    "a table row for " + shape.name() + ":\n" + run.stdout());
        }
        return report;
    }

    /** 2 * N * prod(out) * Cout * Cin/g * prod(k), with the output size from the float64 reference. */
    private static double expectedGflop(BenchShape shape, int batch) {
        int[] x = shape.inputShape(batch);
        int[] w = shape.kernelShape();
        NaiveConv.Result reference = Reference.forward(new double[Arrays.stream(x).reduce(1, (a, b) -> a * b)], x,
                new double[Arrays.stream(w).reduce(1, (a, b) -> a * b)], w, null, shape.strides(),
                shape.inputDilation(), shape.kernelDilation(), shape.padding(), shape.groups());
        int[] out = reference.shape();
        double outputs = 1;
        for (int d = 0; d < out.length - 1; d++) {
            outputs *= out[d];
        }
        double taps = Arrays.stream(shape.kernel()).asDoubleStream().reduce(1, (a, b) -> a * b);
        return 2 * outputs * shape.cout() * ((double) shape.cin() / shape.groups()) * taps / 1e9;
    }

    @Test
    void aResultOverMaxErrorFailsWithExitOne() throws IOException {
        Path json = directory.resolve("strict.json");
        CliRun run = CliRun.of("bench", "--suite", suite.toString(), "--backend", "cpu", "--shapes", "dense2d",
                "--reps", "1", "--warmup", "0", "--warmup-ms", "0", "--max-error", "0", "--json", json.toString());
        assertEquals(1, run.exitCode(), "exit 1 (documented in --help): float32 against float64 is never exactly equal here: "
                + run.stderr());
        assertTrue(run.stderr().contains("max_rel_err"), run.stderr());
        assertTrue(Files.exists(json), "the measured results are still reported");
    }

    @Test
    void badArgumentsAreRefusedWithoutOutput() {
        Path json = directory.resolve("never.json");
        String[][] refused = {
            {"--shapes", "nosuchshape"}, {"--reps", "0"}, {"--warmup", "-1"}, {"--batch", "tpu"},
            {"--max-error", "-1"}, {"--max-error", "NaN"}, {"--backend", "quantum"}, {"--warmup-ms", "-1"},
            {"--warmup-ms", "NaN"}};
        String[] named = {"nosuchshape", "--reps", "--warmup", "--batch", "--max-error", "--max-error", "quantum",
            "--warmup-ms", "--warmup-ms"};
        for (int i = 0; i < refused.length; i++) {
            List<String> args = new java.util.ArrayList<>(List.of("bench", "--suite", suite.toString(), "--json",
                    json.toString()));
            args.addAll(List.of(refused[i]));
            if (!args.contains("--backend")) {
                args.addAll(List.of("--backend", "cpu"));
            }
            String line = CliRun.of(args).assertFailure(Main.EXIT_INVALID, json);
            assertTrue(line.contains(named[i]), "the message names " + named[i] + ": " + line);
        }
        assertFalse(Files.exists(json));
    }

    /**
     * fused_over_bare_bytes is epilogue_ms over {@code bareMs}, divided by the bytes moved with the residual over
     * those moved bare; the residual is the output's size, float32, whose element count the reference gives.
     */
    private void assertFusedOverBareBytes(Map<String, Object> result, double bareMs) throws IOException {
        BenchShape shape = BenchSuite.load(suite).shapes().stream()
                .filter(s -> s.name().equals(result.get("name"))).findFirst().orElseThrow();
        int n = ((Number) result.get("batch")).intValue();
        NaiveConv.Result reference = Reference.forward(new double[Arrays.stream(shape.inputShape(n))
                .reduce(1, (a, b) -> a * b)], shape.inputShape(n), new double[Arrays.stream(shape.kernelShape())
                .reduce(1, (a, b) -> a * b)], shape.kernelShape(), null, shape.strides(), shape.inputDilation(),
                shape.kernelDilation(), shape.padding(), shape.groups());
        double residualBytes = 4.0 * Arrays.stream(reference.shape()).reduce(1, (a, b) -> a * b);
        double bytes = number(result, "bytes_per_call");
        double expected = (number(result, "epilogue_ms") / bareMs) / ((bytes + residualBytes) / bytes);
        assertEquals(expected, number(result, "fused_over_bare_bytes"), 1e-9 * expected,
                "fused_over_bare_bytes: " + result);
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> results(Map<String, Object> report) {
        return (List<Map<String, Object>>) report.get("results");
    }

    private static double number(Map<String, Object> result, String key) {
        return ((Number) result.get(key)).doubleValue();
    }

    private static double best(Map<String, Object> result) {
        Object device = result.get("device_ms");
        return device == null ? number(result, "ms") : ((Number) device).doubleValue();
    }

    /** The files are checked before the run, so that a bad path costs no benchmark time: exit 2, nothing written. */
    @Test
    void missingSuiteAndUnwritableJsonAreRefusedBeforeTheRun() {
        Path missing = directory.resolve("missing.json");
        String suiteLine = CliRun.of("bench", "--backend", "cpu", "--suite", missing.toString())
                .assertFailure(Main.EXIT_INVALID, null);
        assertEquals("convcl: --suite " + missing + ": no such file, nor an embedded suite; a suite is an existing "
                + "file or one of " + BenchSuite.NAMED, suiteLine);
        Path nowhere = directory.resolve("no-such-dir").resolve("bench.json");
        CliRun run = CliRun.of("bench", "--backend", "cpu", "--suite", suite.toString(), "--json", nowhere.toString());
        String jsonLine = run.assertFailure(Main.EXIT_INVALID, null);
        assertTrue(jsonLine.startsWith("convcl: --json " + nowhere + ": directory " + nowhere.getParent()
                + " does not exist"), jsonLine);
        assertFalse(Files.exists(nowhere.getParent()));
    }

    /**
     * {@code --suite NAME} selects the embedded network suite: each result carries its shape's count, and the table
     * and the JSON end with the network's total, the sum of count x ms over the shapes run.
     */
    @Test
    void aNamedSuiteIsTheEmbeddedNetworkSuiteWithItsCountWeightedTotal() throws IOException {
        for (String name : BenchSuite.NAMED) {
            benchTheNamedSuite(name);
        }
    }

    private void benchTheNamedSuite(String name) throws IOException {
        BenchSuite embedded = BenchSuite.loadNamed(name);
        // The two cheapest shapes: the classifier over 1x1 and the last downsample.
        List<BenchShape> picked = embedded.shapes().stream()
                .filter(shape -> shape.name().startsWith("fc_") || shape.name().startsWith("l4_ds")).toList();
        assertEquals(2, picked.size(), "the suite has the classifier and layer4's downsample: " + embedded.shapes());
        Path json = directory.resolve(name + ".json");
        CliRun run = CliRun.of("bench", "--suite", name, "--backend", "cpu", "--shapes",
                picked.get(0).name() + "," + picked.get(1).name(), "--reps", "1", "--warmup", "0", "--warmup-ms",
                "0", "--json", json.toString());
        assertEquals(0, run.exitCode(), run.stderr());
        Map<String, Object> report = JSON.std.mapFrom(Files.readString(json));
        List<Map<String, Object>> results = results(report);
        assertEquals(picked.size(), results.size());
        double total = 0;
        int convolutions = 0;
        for (int i = 0; i < picked.size(); i++) {
            BenchShape shape = picked.get(i);
            Map<String, Object> result = results.get(i);
            assertEquals(shape.name(), result.get("name"));
            assertEquals(shape.batchCpu(), ((Number) result.get("batch")).intValue(), "the suite's batch_cpu");
            assertEquals(shape.count(), ((Number) result.get("count")).intValue(), "the suite's count: " + result);
            total += shape.count() * number(result, "ms");
            convolutions += shape.count();
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> network = (Map<String, Object>) report.get("network");
        assertNotNull(network, "a counted suite has a network total: " + report);
        assertEquals(convolutions, ((Number) network.get("convolutions")).intValue());
        assertEquals(total, number(network, "ms"), 1e-9 * total);
        assertNull(network.get("chain_ms"), "the Java path has no device-resident time");
        String line = run.stdout().lines().filter(l -> l.startsWith("network: ")).findFirst().orElse("");
        assertEquals(String.format(java.util.Locale.ROOT, "network: %d convolutions, sum of count x ms %.3f ms",
                convolutions, total), line, run.stdout());
    }

    /** A suite without counts reports neither counts nor a total; one with counts on some shapes only is refused. */
    @Test
    void countsAreAllOrNothing() throws IOException {
        Path json = directory.resolve("plain.json");
        CliRun run = CliRun.of("bench", "--suite", suite.toString(), "--backend", "cpu", "--shapes", "depthwise1d",
                "--reps", "1", "--warmup", "0", "--warmup-ms", "0", "--json", json.toString());
        assertEquals(0, run.exitCode(), run.stderr());
        Map<String, Object> report = JSON.std.mapFrom(Files.readString(json));
        assertTrue(report.containsKey("network") && report.get("network") == null, "no network total: " + report);
        assertNull(results(report).get(0).get("count"));
        assertFalse(run.stdout().contains("network:"), run.stdout());

        Path mixed = directory.resolve("mixed.json");
        Files.writeString(mixed, TINY_SUITE.replace("\"batch_gpu\": 3},", "\"batch_gpu\": 3, \"count\": 2},"));
        Path zero = directory.resolve("zero.json");
        Files.writeString(zero, TINY_SUITE.replace("\"batch_gpu\": 3", "\"batch_gpu\": 3, \"count\": 0"));
        Path never = directory.resolve("never.json");
        String mixedLine = CliRun.of("bench", "--suite", mixed.toString(), "--backend", "cpu", "--json",
                never.toString()).assertFailure(Main.EXIT_INVALID, never);
        assertTrue(mixedLine.contains("'count'") && mixedLine.contains("depthwise1d"), mixedLine);
        String zeroLine = CliRun.of("bench", "--suite", zero.toString(), "--backend", "cpu", "--json",
                never.toString()).assertFailure(Main.EXIT_INVALID, never);
        assertTrue(zeroLine.contains("count = 0"), zeroLine);
    }

    /** The help states the rule and names every embedded suite, for bench and tune alike. */
    @Test
    void theHelpNamesEveryEmbeddedSuite() {
        for (String command : List.of("bench", "tune")) {
            CliRun help = CliRun.of(command, "--help");
            assertEquals(0, help.exitCode(), help.stderr());
            String text = help.stdout().replaceAll("\\s+", " ");
            for (String name : BenchSuite.NAMED) {
                assertTrue(text.contains(name), command + " --help names " + name + ":\n" + help.stdout());
            }
            assertTrue(text.contains("--suite=NAME|FILE"), help.stdout());
        }
    }
}
