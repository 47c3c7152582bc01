package org.convcl.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.convcl.testing.OpenClTesting;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bench --dtype} (issue 26) on a one-shape suite: a float16 run on OpenCL reports its dtype, the device's
 * times, half of float32's bytes per call, and passes its default --max-error; so does one on the Java path.
 */
class BenchDTypeTest {
    private static final String ONE_SHAPE = """
            {"shapes": [
              {"name": "dense2d", "spatial": [9, 7], "cin": 8, "cout": 12, "kernel": [3, 2],
               "strides": [2, 1], "kernel_dilation": [1, 2], "input_dilation": [1, 1], "padding": "SAME",
               "groups": 1, "batch_cpu": 2, "batch_gpu": 3}]}
            """;

    @TempDir
    Path directory;
    private Path suite;

    @BeforeEach
    void writeSuite() throws IOException {
        suite = directory.resolve("suite.json");
        Files.writeString(suite, ONE_SHAPE);
    }

    @Test
    void float16OnOpenClReportsDeviceTimesAndHalfTheBytesOfFloat32() throws IOException {
        OpenClTesting.device();
        Path half = directory.resolve("half.json");
        CliRun run = bench(half, "--backend", "opencl", "--dtype", "float16");
        assertEquals(0, run.exitCode(), "within the default --max-error: " + run.stderr());
        assertTrue(run.stdout().contains("dtype: float16"), run.stdout());
        assertTrue(run.stdout().lines().anyMatch(line -> line.contains(" moved_mb ")), run.stdout());
        Map<String, Object> report = JSON.std.mapFrom(Files.readString(half));
        assertEquals("float16", report.get("dtype"), "report: " + report);
        Map<String, Object> result = firstResult(report);
        for (String key : List.of("ms", "device_ms", "call_ms")) {
            assertTrue(number(result, key) > 0, key + ": " + result);
        }
        assertTrue(number(result, "device_ms") <= number(result, "call_ms"), "device_ms <= call_ms: " + result);
        for (String key : List.of("chain_ms", "epilogue_ms", "unfused_ms", "activation_ms", "inplace_ms",
                "fused_over_bare_bytes")) {
            assertNull(result.get(key), key + " is not measured in 16 bits yet: " + result);
            assertTrue(key.equals("fused_over_bare_bytes")
                    || String.valueOf(result.get("epilogue_note")).contains(key), "the note says so: " + result);
        }
        assertTrue(number(result, "max_rel_err") > 0, "the output is rounded to float16: " + result);

        Path single = directory.resolve("float32.json");
        assertEquals(0, bench(single, "--backend", "cpu").exitCode());
        Map<String, Object> float32 = JSON.std.mapFrom(Files.readString(single));
        assertEquals("float32", float32.get("dtype"), "report: " + float32);
        assertEquals(number(firstResult(float32), "bytes_per_call"), 2 * number(result, "bytes_per_call"),
                "float16 moves half the bytes of float32: " + result);
    }

    /**
     * The Java path times its 16-bit host form: within the default --max-error of float64 on the rounded operands
     * (the exit code), on every core and on one thread, with no device time and half of float32's bytes.
     */
    @Test
    void theJavaPathTimesItsSixteenBitHostForm() throws IOException {
        Path single = directory.resolve("float32.json");
        assertEquals(0, bench(single, "--backend", "cpu").exitCode());
        double float32Bytes = number(firstResult(JSON.std.mapFrom(Files.readString(single))), "bytes_per_call");
        for (List<String> options : List.of(List.of("--backend", "cpu"), List.of("--single-thread"))) {
            Path json = directory.resolve("java.json");
            List<String> args = new java.util.ArrayList<>(options);
            args.addAll(List.of("--dtype", "bfloat16"));
            CliRun run = bench(json, args.toArray(String[]::new));
            assertEquals(0, run.exitCode(), options + " within the default --max-error: " + run.stderr());
            Map<String, Object> report = JSON.std.mapFrom(Files.readString(json));
            assertEquals("bfloat16", report.get("dtype"), "report: " + report);
            Map<String, Object> result = firstResult(report);
            assertTrue(number(result, "ms") > 0, "ms: " + result);
            assertNull(result.get("device_ms"), "the Java path has no device time: " + result);
            assertTrue(number(result, "max_rel_err") > 0, "the output is rounded to bfloat16: " + result);
            assertEquals(float32Bytes, 2 * number(result, "bytes_per_call"), "half of float32's bytes: " + result);
        }
        String bad = bench(directory.resolve("never.json"), "--backend", "cpu", "--dtype", "fp16")
                .assertFailure(Main.EXIT_INVALID, directory.resolve("never.json"));
        assertEquals("convcl: --dtype: got 'fp16'; expected one of float32, float16, bfloat16", bad);
    }

    private CliRun bench(Path json, String... extra) {
        List<String> args = new java.util.ArrayList<>(List.of("bench", "--suite", suite.toString(), "--batch", "cpu",
                "--reps", "1", "--warmup", "0", "--warmup-ms", "0", "--json", json.toString()));
        args.addAll(List.of(extra));
        return CliRun.of(args);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> firstResult(Map<String, Object> report) {
        return ((List<Map<String, Object>>) report.get("results")).get(0);
    }

    private static double number(Map<String, Object> map, String key) {
        return ((Number) map.get(key)).doubleValue();
    }
}
