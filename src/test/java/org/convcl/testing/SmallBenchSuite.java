package org.convcl.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A one-shape suite file for tests that run {@code convcl bench} in a separate process for what the process
 * does around the kernels (the driver's load, signal handlers, cache directories), not for the timings: one
 * small depthwise layer, so that the process's time is the driver's load and a few compiles rather than the
 * embedded suite's batch-8 work (23-40 s a run under PoCL). The bench still checks the result against its
 * float64 reference.
 */
public final class SmallBenchSuite {
    /** The shape's name: the bench's table row for it starts with this. */
    public static final String SHAPE = "small_depthwise";

    private SmallBenchSuite() {
    }

    /** Writes the suite into {@code dir} and returns the bench's arguments that run it on OpenCL. */
    public static List<String> openClBenchArguments(Path dir) throws IOException {
        Path suite = dir.resolve("small-suite.json");
        Files.writeString(suite, """
                {"shapes": [{"name": "%s", "spatial": [16, 16], "cin": 8, "cout": 8, "kernel": [3, 3],
                  "strides": [1, 1], "kernel_dilation": [1, 1], "input_dilation": [1, 1], "padding": "SAME",
                  "groups": 8, "batch_cpu": 1, "batch_gpu": 1}]}
                """.formatted(SHAPE), StandardCharsets.UTF_8);
        return List.of("bench", "--backend", "opencl", "--batch", "cpu", "--suite", suite.toString(), "--reps", "3",
                "--warmup", "1", "--warmup-ms", "0");
    }
}
