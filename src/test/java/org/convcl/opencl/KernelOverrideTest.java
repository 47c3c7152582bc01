package org.convcl.opencl;

import org.convcl.opencl.device.OpenClDevice;
import org.convcl.opencl.device.KernelBuildException;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.convcl.ConvGeometry;
import org.convcl.opencl.internal.runtime.KernelSources;
import org.convcl.opencl.internal.runtime.ProgramBinaryCache;
import org.convcl.opencl.internal.driver.PoclCache;
import org.convcl.opencl.internal.plan.ConvPlan;
import org.convcl.testing.OpenClTesting;
import org.convcl.testing.Processes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The kernels directory override: edited sources are used, broken ones fail with the compiler's log. The broken
 * builds run in a JVM of their own ({@link BrokenKernelBuild}), which captures what the compiler writes to the
 * native standard error.
 */
class KernelOverrideTest {
    private static final ConvGeometry GEOMETRY = BrokenKernelBuild.GEOMETRY;

    @TempDir
    Path kernels;

    /** Where the separate JVM writes what it saw. */
    @TempDir
    Path scratch;

    @AfterEach
    void clearOverride() {
        System.clearProperty("convcl.kernels.dir");
    }

    /** What the broken build in a JVM of its own ({@link BrokenKernelBuild}) reported. */
    private record BuildFailure(String message, String buildLog) {
    }

    /**
     * Builds from the sources in {@link #kernels} in a separate JVM and returns its KernelBuildException's message
     * and build log. The compiler's own output on the native standard error (PoCL: {@code 1 error generated.}) is
     * captured there and checked to be only that, rather than left in the build's output without context.
     */
    private BuildFailure buildInAJvmOfItsOwn(OpenClDevice device) throws Exception {
        Path results = scratch;
        List<String> options = new ArrayList<>(List.of("-Dconvcl.kernels.dir=" + kernels));
        String cache = System.getProperty("convcl.cache.dir");
        if (cache != null) {
            options.add("-Dconvcl.cache.dir=" + cache);
        }
        Processes.Outcome outcome = Processes.run(Processes.javaCommand(options, BrokenKernelBuild.class,
                String.valueOf(device.index()), results.toString()), Map.of(), 120);
        assertEquals(0, outcome.exitCode(), "the build failed with a KernelBuildException: " + outcome.all());
        List<String> written = outcome.stderr().lines().filter(line -> !line.isBlank()).toList();
        for (String line : written) {
            assertTrue(line.matches("\\d+ errors? generated\\."), "only the compiler's summary on stderr: "
                    + outcome.all());
        }
        if (PoclCache.isPocl(device.platformName())) {
            // What used to appear in mvn's output, unexplained: it is captured here now.
            assertEquals(List.of("1 error generated."), written, outcome.all());
        }
        return new BuildFailure(Files.readString(results.resolve("message.txt"), StandardCharsets.UTF_8),
                Files.readString(results.resolve("build-log.txt"), StandardCharsets.UTF_8));
    }

    @Test
    void brokenKernelSourceFailsWithTheBuildLog() throws Exception {
        OpenClDevice device = OpenClTesting.device();
        String packaged = KernelSources.load("conv_gemm.cl").text();
        Files.writeString(kernels.resolve("conv_gemm.cl"),
                packaged.replace("const int tid = get_local_id(0);", "const int tid = undeclared_on_purpose;"),
                StandardCharsets.UTF_8);
        BuildFailure error = buildInAJvmOfItsOwn(device);
        assertTrue(error.buildLog().contains("undeclared_on_purpose"), "the log names the problem:\n" + error.buildLog());
        assertTrue(error.message().contains("conv_gemm.cl"), error.message());
        assertTrue(error.message().contains(kernels.toString()), "the message says where the source came from");
        assertTrue(error.message().contains("-D TILE_M="), "the message shows the build options");
    }

    @Test
    void brokenSharedSourceFailsNamingEveryFileOfTheProgram() throws Exception {
        OpenClDevice device = OpenClTesting.device();
        String packaged = KernelSources.load(ConvPlan.GEOMETRY_SOURCE).text();
        String broken = packaged.replace("return q / input_dilation;", "return q / undeclared_on_purpose;");
        assertTrue(!broken.equals(packaged), "the edit applies to the packaged source");
        Files.writeString(kernels.resolve(ConvPlan.GEOMETRY_SOURCE), broken, StandardCharsets.UTF_8);
        BuildFailure error = buildInAJvmOfItsOwn(device);
        assertTrue(error.buildLog().contains("undeclared_on_purpose"), "the log names the problem:\n" + error.buildLog());
        int sharedLines = (int) broken.lines().count();
        assertTrue(error.message().contains(kernels.resolve(ConvPlan.GEOMETRY_SOURCE) + "; build log lines 1-"
                + sharedLines + ")"), "the message says where the shared file came from and which lines are its:\n"
                + error.message());
        // Between them the shared TF32 file, named with its own lines too.
        int tf32Lines = (int) KernelSources.load(ConvPlan.TF32_SOURCE).text().lines().count();
        assertTrue(error.message().contains("tf32.cl (classpath:/kernels/tf32.cl; build log lines " + (sharedLines + 1)
                + "-" + (sharedLines + tf32Lines) + ")"), "the second shared file's lines:\n" + error.message());
        // Then the storage macros, and the kernel's own file after them.
        int storageLines = (int) KernelSources.load("storage.cl").text().lines().count();
        assertTrue(error.message().contains("conv_gemm.cl (classpath:/kernels/conv_gemm.cl; build log lines "
                + (sharedLines + tf32Lines + storageLines + 1) + "-"), "and the same for the kernel's own file:\n"
                + error.message());
    }

    @Test
    void editedSourceInTheOverrideDirectoryIsCompiled() throws IOException {
        OpenClDevice device = OpenClTesting.device();
        String packaged = KernelSources.load("conv_gemm.cl").text();
        // A harmless edit that is visible in the results: every output gets +1.
        String edited = packaged.replace("+ LOAD_BIAS_N(bias + BIAS_ROW + group * COUT_G + n);",
                "+ LOAD_BIAS_N(bias + BIAS_ROW + group * COUT_G + n) + 1.0f;");
        assertTrue(!edited.equals(packaged), "the edit applies to the packaged source");
        Files.writeString(kernels.resolve("conv_gemm.cl"), edited, StandardCharsets.UTF_8);
        System.setProperty("convcl.kernels.dir", kernels.toString());
        KernelSources.Source source = KernelSources.load("conv_gemm.cl");
        assertEquals(kernels.resolve("conv_gemm.cl").toString(), source.origin());
        assertEquals(KernelSources.load("conv_general.cl").origin(), "classpath:/kernels/conv_general.cl",
                "files the directory lacks come from the classpath");
        try (OpenClBackend backend = OpenClBackend.create(device, new ProgramBinaryCache(null))) {
            float[] out = new float[12];
            backend.forward(GEOMETRY, new float[12], new float[12], new float[2], out);
            for (float value : out) {
                assertEquals(1.0f, value);
            }
        }
    }

    @Test
    void overrideThatIsNotADirectoryIsRefused() {
        System.setProperty("convcl.kernels.dir", kernels.resolve("missing").toString());
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> KernelSources.load("conv_gemm.cl"));
        assertTrue(error.getMessage().contains("system property convcl.kernels.dir"), error.getMessage());
    }
}
