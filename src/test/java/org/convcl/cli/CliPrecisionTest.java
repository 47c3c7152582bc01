package org.convcl.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.convcl.ConvSpec;
import org.convcl.Tensor;
import org.convcl.io.Npy;
import org.convcl.testing.NaiveConv;
import org.convcl.testing.RandomTensors;
import org.convcl.testing.Reference;
import org.convcl.testing.Tolerance;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --precision} on conv, conv-transpose, bench and tune: what it computes, what it reports, what it refuses. */
class CliPrecisionTest {
    @TempDir
    Path dir;

    private Path x;
    private Path kernel;

    @BeforeEach
    void inputs() throws IOException {
        SplittableRandom random = new SplittableRandom(16);
        x = dir.resolve("x.npy");
        kernel = dir.resolve("k.npy");
        Npy.write(x, RandomTensors.uniform(random, 2, 9, 7, 8));
        Npy.write(kernel, RandomTensors.uniform(random, 3, 3, 8, 6));
    }

    private CliRun conv(Path output, String... extra) {
        List<String> args = new ArrayList<>(List.of("conv", "--input", x.toString(), "--kernel", kernel.toString(),
                "--backend", "cpu", "--strides", "2"));
        args.addAll(Arrays.asList(extra));
        args.addAll(List.of("--output", output.toString()));
        return CliRun.of(args);
    }

    @Test
    void convInTf32IsWithinTheTf32ToleranceAndDiffersFromFloat32() throws IOException {
        Path tf32 = dir.resolve("tf32.npy");
        Path highest = dir.resolve("highest.npy");
        assertEquals(0, conv(tf32, "--precision", "TF32").exitCode());
        assertEquals(0, conv(highest, "--precision", "highest").exitCode());
        Tensor xs = Npy.read(x);
        Tensor ks = Npy.read(kernel);
        ConvSpec spec = ConvSpec.builder().strides(2).build();
        NaiveConv.Result reference = Reference.forward(Tolerance.toDouble(xs.data()), xs.shape(),
                Tolerance.toDouble(ks.data()), ks.shape(), null, spec.strides(), spec.inputDilation(),
                spec.kernelDilation(), spec.padding(), spec.groups());
        Tensor y = Npy.read(tf32);
        Tolerance.assertCloseTf32("conv --precision tf32", reference.shape(), reference.values(), reference.absSums(),
                y.shape(), y.data());
        assertFalse(Arrays.equals(Npy.read(highest).data(), y.data()), "tf32 rounds the operands");
    }

    @Test
    void convTransposeTakesThePrecision() throws IOException {
        Path output = dir.resolve("t.npy");
        Path highest = dir.resolve("th.npy");
        Path transposeKernel = dir.resolve("tk.npy");
        Npy.write(transposeKernel, RandomTensors.uniform(new SplittableRandom(3), 3, 3, 8, 4));
        for (String[] run : new String[][] {{"--precision", "tf32"}, {}}) {
            List<String> args = new ArrayList<>(List.of("conv-transpose", "--input", x.toString(), "--kernel",
                    transposeKernel.toString(), "--backend", "cpu", "--strides", "2"));
            args.addAll(Arrays.asList(run));
            args.addAll(List.of("--output", (run.length == 0 ? highest : output).toString()));
            assertEquals(0, CliRun.of(args).exitCode(), String.join(" ", args));
        }
        float[] tf32 = Npy.read(output).data();
        float[] float32 = Npy.read(highest).data();
        assertFalse(Arrays.equals(float32, tf32), "tf32 rounds the operands");
        double maxRelErr = Tolerance.maxRelErr(Tolerance.toDouble(float32), tf32);
        assertTrue(maxRelErr <= Tolerance.TF32_MAX_REL_ERR, "tf32 against float32: " + maxRelErr);
    }

    @Test
    void badPrecisionsAreRefusedNamingTheChoices() {
        Path output = dir.resolve("never.npy");
        String line = conv(output, "--precision", "fp16").assertFailure(Main.EXIT_INVALID, output);
        assertTrue(line.contains("--precision") && line.contains("'fp16'") && line.contains("highest or tf32"), line);
        String transpose = CliRun.of("conv-transpose", "--input", x.toString(), "--kernel", kernel.toString(),
                "--precision", "half", "--output", output.toString()).assertFailure(Main.EXIT_INVALID, output);
        assertTrue(transpose.contains("--precision") && transpose.contains("highest or tf32"), transpose);
        String bench = CliRun.of("bench", "--backend", "cpu", "--precision", "double")
                .assertFailure(Main.EXIT_INVALID, null);
        assertTrue(bench.contains("--precision") && bench.contains("highest or tf32"), bench);
        String tune = CliRun.of("tune", "--precision", "int8").assertFailure(Main.EXIT_INVALID, null);
        assertTrue(tune.contains("--precision") && tune.contains("highest or tf32"), tune);
    }

    @Test
    void benchReportsThePrecisionAndHoldsTf32ToItsTarget() throws IOException {
        Path suite = dir.resolve("suite.json");
        Files.writeString(suite, """
                {"shapes": [
                  {"name": "dense2d", "spatial": [9, 7], "cin": 8, "cout": 12, "kernel": [3, 2],
                   "strides": [2, 1], "kernel_dilation": [1, 2], "input_dilation": [1, 1], "padding": "SAME",
                   "groups": 1, "batch_cpu": 2, "batch_gpu": 3}]}
                """);
        Path json = dir.resolve("report.json");
        CliRun run = CliRun.of("bench", "--suite", suite.toString(), "--backend", "cpu", "--precision", "tf32",
                "--reps", "1", "--warmup", "0", "--warmup-ms", "0", "--json", json.toString());
        assertEquals(0, run.exitCode(), run.stderr());
        assertTrue(run.stdout().contains("precision: tf32"), run.stdout());
        Map<String, Object> report = JSON.std.mapFrom(Files.readString(json));
        assertEquals("tf32", report.get("precision"), "report: " + report);
        @SuppressWarnings("unchecked")
        Map<String, Object> result = ((List<Map<String, Object>>) report.get("results")).get(0);
        double maxRelErr = ((Number) result.get("max_rel_err")).doubleValue();
        // Measured against float64: above float32's error (the rounding happened) and within TF32's target.
        assertTrue(maxRelErr > 1e-6 && maxRelErr <= Tolerance.TF32_MAX_REL_ERR, "max_rel_err " + maxRelErr);
        Path highest = dir.resolve("highest.json");
        assertEquals(0, CliRun.of("bench", "--suite", suite.toString(), "--backend", "cpu", "--reps", "1",
                "--warmup", "0", "--warmup-ms", "0", "--json", highest.toString()).exitCode());
        assertEquals("highest", JSON.std.mapFrom(Files.readString(highest)).get("precision"));
    }
}
