package org.convcl.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.convcl.ConvGeometry;
import org.convcl.ConvSpec;
import org.convcl.DType;
import org.convcl.Padding;
import org.convcl.opencl.device.OpenClDevice;
import org.convcl.opencl.internal.plan.KernelConfig;
import org.convcl.opencl.internal.tuning.DefaultConfigs;
import org.convcl.opencl.internal.tuning.TuningCandidates;
import org.convcl.opencl.internal.tuning.TuningDatabase;
import org.convcl.testing.OpenClTesting;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code convcl tune} on a tiny suite: it tunes, prints its choice, and keeps it in the cache directory. */
class TuneCommandTest {
    private static final String TINY_SUITE = """
            {"shapes": [{"name": "tiny", "spatial": [6, 5], "cin": 8, "cout": 8, "kernel": [3, 3],
              "strides": [1, 1], "kernel_dilation": [1, 1], "input_dilation": [1, 1], "padding": "SAME",
              "groups": 1, "batch_cpu": 1, "batch_gpu": 2}]}
            """;

    @TempDir
    Path directory;
    private String previousCacheDir;

    @BeforeEach
    void useTemporaryCache() {
        previousCacheDir = System.getProperty("convcl.cache.dir");
        System.setProperty("convcl.cache.dir", directory.resolve("cache").toString());
    }

    @AfterEach
    void restoreCache() {
        if (previousCacheDir == null) {
            System.clearProperty("convcl.cache.dir");
        } else {
            System.setProperty("convcl.cache.dir", previousCacheDir);
        }
    }

    @Test
    void tunesATinyShapeAndRecordsTheChoice() throws IOException {
        OpenClTesting.device();
        Path suite = directory.resolve("suite.json");
        Files.writeString(suite, TINY_SUITE);
        CliRun run = CliRun.of("tune", "--suite", suite.toString(), "--budget", "2", "--reps", "1", "--warmup", "0");
        assertEquals(0, run.exitCode(), run.stderr());
        assertTrue(run.stdout().contains("device: "), run.stdout());
        List<String> rows = run.stdout().lines().filter(line -> line.startsWith("tiny ")).toList();
        assertEquals(1, rows.size(), run.stdout());
        assertTrue(rows.get(0).contains("gemm "), "the chosen config is shown: " + rows.get(0));
        assertTrue(run.stderr().contains("tune: tiny"), run.stderr());
        Path tuning = directory.resolve("cache").resolve("tuning");
        try (Stream<Path> files = Files.list(tuning)) {
            List<Path> databases = files.filter(f -> f.toString().endsWith(".json")).toList();
            assertEquals(1, databases.size(), "one database for the device: " + databases);
            assertTrue(run.stdout().contains("database: " + databases.get(0)), run.stdout());
            assertTrue(Files.readString(databases.get(0)).contains("\"kernel\" : \"gemm\""));
        }
    }

    /**
     * {@code tune --dtype float16} records its winner under the float16 key only (one candidate: PoCL compiles
     * each); a float16 forward's plan (bench --dtype float16, a float16 layer) is given the config recorded there.
     */
    @Test
    void tunesAFloat16ShapeUnderItsOwnKey() throws IOException {
        OpenClDevice device = OpenClTesting.device();
        Path suite = directory.resolve("suite.json");
        Files.writeString(suite, TINY_SUITE);
        CliRun run = CliRun.of("tune", "--suite", suite.toString(), "--dtype", "float16", "--budget", "1", "--reps",
                "1", "--warmup", "0");
        assertEquals(0, run.exitCode(), run.stderr());
        assertTrue(run.stdout().contains("dtype: float16"), run.stdout());
        assertEquals(1, run.stdout().lines().filter(line -> line.startsWith("tiny ")).count(), run.stdout());
        ConvGeometry g = ConvSpec.builder().padding(Padding.SAME).build().resolve(new int[] {1, 6, 5, 8},
                new int[] {3, 3, 8, 8});
        ConvGeometry g16 = g.withStorage(DType.FLOAT16);
        TuningDatabase database = TuningDatabase.forDevice(device);
        assertTrue(database.lookup(g).isEmpty(), "nothing recorded for float32: " + database.entries());
        assertTrue(database.lookup(g16).isPresent(), "the float16 entry: " + database.entries());

        KernelConfig untuned = DefaultConfigs.untuned(g16, device);
        KernelConfig other = TuningCandidates.of(g16, device, 8).stream().filter(c -> !c.equals(untuned))
                .findFirst().orElseThrow();
        database.record(g16, other, 1, 2, 2);
        assertEquals(other, DefaultConfigs.choose(g16, device), "a float16 plan takes the float16 entry");
    }

    @Test
    void theJavaPathHasNothingToTune() {
        CliRun run = CliRun.of("tune", "--backend", "cpu");
        String line = run.assertFailure(Main.EXIT_INVALID, null);
        assertTrue(line.contains("nothing") || line.contains("no kernels"), line);
    }

    @Test
    void aBudgetBelowOneIsRefused() {
        String line = CliRun.of("tune", "--budget", "0").assertFailure(Main.EXIT_INVALID, null);
        assertTrue(line.contains("--budget"), line);
    }
}
