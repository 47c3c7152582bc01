package org.convcl.opencl;

import org.convcl.opencl.device.OpenClDevice;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.convcl.ConvGeometry;
import org.convcl.Padding;
import org.convcl.Tensor;
import org.convcl.opencl.internal.runtime.KernelSources;
import org.convcl.testing.NaiveConv;
import org.convcl.testing.OpenClTesting;
import org.convcl.testing.Processes;
import org.convcl.testing.Reference;
import org.convcl.testing.Tolerance;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A fast path beyond the portable kernels is proven on the device before it serves a call: on PoCL the emulated mma
 * variant, which the device's tuning database names for {@link ProbedVariantCalls#GEOMETRY}. Each failure a driver
 * can show is injected through an edited {@code conv_gemm.cl} that breaks only that variant (the portable GEMM is
 * built from the same file): a build the compiler refuses, a kernel that cannot run, a wrong result. Each time the
 * calls stay right (against float64) on the portable path, after exactly one WARN (though the first use comes from
 * several threads at once) naming the device, the variant and the reason. A second process with the same cache
 * directory does not probe again after a refused build or a wrong result, and does after a failed run (which a busy
 * device can cause, so it is not remembered on disk). The calls run in JVMs of their own
 * ({@link ProbedVariantCalls}), where the log and the compiler's native output can be read.
 */
@Timeout(240)
class ProvenVariantsTest {
    @TempDir
    Path cache;

    @TempDir
    Path kernels;

    @TempDir
    Path scratch;

    private record Run(Processes.Outcome outcome, List<String> configs, List<String> warnings) {
    }

    /** The calls in a JVM of their own with this test's cache directory and, when {@code edited}, its kernels. */
    private Run calls(OpenClDevice device, boolean edited, String name) throws Exception {
        Path results = Files.createDirectories(scratch.resolve(name));
        List<String> options = new ArrayList<>(List.of("--add-modules", "jdk.incubator.vector",
                "-Dconvcl.cache.dir=" + cache, "-Dorg.slf4j.simpleLogger.log.org.convcl.opencl.internal.probe=debug"));
        if (edited) {
            options.add("-Dconvcl.kernels.dir=" + kernels);
        }
        Processes.Outcome outcome = Processes.run(Processes.javaCommand(options, ProbedVariantCalls.class,
                String.valueOf(device.index()), results.toString()), Map.of(), 180);
        assertEquals(0, outcome.exitCode(), outcome.all());
        for (int call = 0; call < 2; call++) {
            assertRight(results.resolve("out" + call + ".bin"), "call " + call + " of " + name);
        }
        List<String> warnings = outcome.stderr().lines().filter(line -> line.contains(" WARN ")
                && line.contains("ProvenVariants")).toList();
        return new Run(outcome, Files.readAllLines(results.resolve("configs.txt")), warnings);
    }

    /** The output against the float64 reference, to the TF32 rule. */
    private static void assertRight(Path file, String what) throws IOException {
        ConvGeometry g = ProbedVariantCalls.GEOMETRY;
        float[][] operands = ProbedVariantCalls.operands();
        float[] got = new float[(int) Tensor.elementCount(g.outputShape())];
        try (DataInputStream in = new DataInputStream(Files.newInputStream(file))) {
            for (int i = 0; i < got.length; i++) {
                got[i] = in.readFloat();
            }
        }
        NaiveConv.Result reference = Reference.forward(Tolerance.toDouble(operands[0]), g.inputShape(),
                Tolerance.toDouble(operands[1]), g.kernelShape(), Tolerance.toDouble(operands[2]), new int[] {1},
                new int[] {1}, new int[] {1}, Padding.SAME, 1);
        Tolerance.assertCloseTf32(what, reference.shape(), reference.values(), reference.absSums(), g.outputShape(),
                got);
    }

    /** Writes conv_gemm.cl with {@code original} replaced by {@code replacement} into the kernels directory. */
    private void editGemmKernel(String original, String replacement) throws IOException {
        String packaged = KernelSources.load("conv_gemm.cl").text();
        assertTrue(packaged.contains(original), "the edit applies to the packaged source: " + original);
        Files.writeString(kernels.resolve("conv_gemm.cl"), packaged.replace(original, replacement),
                StandardCharsets.UTF_8);
    }

    private List<String> verdictFiles() throws IOException {
        Path probes = cache.resolve("probes");
        if (!Files.isDirectory(probes)) {
            return List.of();
        }
        List<String> texts = new ArrayList<>();
        try (Stream<Path> files = Files.list(probes)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".properties")).toList()) {
                texts.add(Files.readString(file, StandardCharsets.UTF_8));
            }
        }
        return texts;
    }

    /**
     * A failure injected into the emulated mma variant: the first process probes it, warns once (both of its
     * backends take the portable GEMM), and remembers; the second reads the verdict and neither probes nor warns.
     */
    private void assertDisabledOnce(String reasonWords, String reasonDetail) throws Exception {
        OpenClDevice device = OpenClTesting.device();
        Run first = calls(device, true, "first");
        assertEquals(1, first.warnings().size(), "exactly one WARN:\n" + first.outcome().all());
        String warning = first.warnings().get(0);
        for (String expected : List.of(device.describe(), "mma (emulated)", reasonWords, reasonDetail,
                "portable", cache.resolve("probes").toString())) {
            assertTrue(warning.contains(expected), "the WARN says '" + expected + "': " + warning);
        }
        for (String config : first.configs()) {
            assertTrue(config.startsWith("gemm ") && !config.contains("mma"), "the portable GEMM served: " + config);
        }
        List<String> verdicts = verdictFiles();
        assertEquals(1, verdicts.size(), "one verdict remembered: " + verdicts);
        assertTrue(verdicts.get(0).contains("verdict=failed"), verdicts.get(0));

        Run second = calls(device, true, "second");
        assertEquals(List.of(), second.warnings(), "no second probe, no second WARN:\n" + second.outcome().all());
        assertTrue(second.outcome().stderr().contains("remembered in"), "the verdict came from the cache directory:\n"
                + second.outcome().all());
        assertEquals(first.configs(), second.configs());
    }

    @Test
    void aHealthyVariantPassesItsProbeAndServesTheCalls() throws Exception {
        Run run = calls(OpenClTesting.device(), false, "healthy");
        assertEquals(List.of(), run.warnings(), run.outcome().all());
        assertEquals(2, run.configs().size());
        for (String config : run.configs()) {
            assertTrue(config.contains("mma"), "the mma variant served the call: " + config);
        }
        assertTrue(run.outcome().stderr().contains("kernel variant mma (emulated) proven on"), run.outcome().all());
        List<String> verdicts = verdictFiles();
        assertEquals(1, verdicts.size(), verdicts.toString());
        assertTrue(verdicts.get(0).contains("verdict=passed"), verdicts.get(0));
    }

    @Test
    void aBuildTheCompilerRefusesDisablesTheVariant() throws Exception {
        // Breaks only the emulated mma functions: the portable GEMM is built from the same file without them.
        editGemmKernel("typedef float mma_operand;", "typedef float mma_operand;\n#error \"probe_refused_on_purpose\"");
        assertDisabledOnce("failed to build", "probe_refused_on_purpose");
    }

    /**
     * A failed run may be the device's state (out of resources while it is busy), not its driver: the variant is
     * left out for the process that saw it, after one WARN that says so, and nothing is remembered on disk, so the
     * next process probes again (and here fails again, with its own WARN).
     */
    @Test
    void aKernelThatCannotRunIsLeftOutForThisProcessOnly() throws Exception {
        // With mma the kernel takes one more argument than the host sets: the driver refuses the launch.
        editGemmKernel("__global const storage_t* epi_residual, const int residual_offset) {",
                "__global const storage_t* epi_residual, const int residual_offset\n#if MMA\n"
                + ", __global float* never_set\n#endif\n) {");
        OpenClDevice device = OpenClTesting.device();
        for (String name : List.of("first", "second")) {
            Run run = calls(device, true, name);
            assertEquals(1, run.warnings().size(), "one WARN in the " + name + " process:\n" + run.outcome().all());
            String warning = run.warnings().get(0);
            for (String expected : List.of(device.describe(), "mma (emulated)", "failed to run",
                    "clEnqueueNDRangeKernel", "portable", "not used by this process", "the next process probes it "
                    + "again")) {
                assertTrue(warning.contains(expected), "the WARN says '" + expected + "': " + warning);
            }
            assertFalse(warning.contains("Remembered in"), warning);
            assertFalse(run.outcome().stderr().contains("remembered in"), "probed, not read from the cache:\n"
                    + run.outcome().all());
            for (String config : run.configs()) {
                assertTrue(config.startsWith("gemm ") && !config.contains("mma"),
                        "the portable GEMM served: " + config);
            }
            assertEquals(List.of(), verdictFiles(), "a failed run is not remembered on disk");
        }
    }

    @Test
    void aWrongResultDisablesTheVariant() throws Exception {
        // The emulated mma adds one to every product block: compiles and runs, and is wrong.
        editGemmKernel("float sum = d[i];", "float sum = d[i] + 1.0f;");
        assertDisabledOnce("wrong result", "max_rel_err");
        assertFalse(verdictFiles().get(0).contains("verdict=passed"));
    }
}
