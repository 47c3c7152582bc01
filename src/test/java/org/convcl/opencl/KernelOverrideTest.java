package org.convcl.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.convcl.ConvGeometry;
import org.convcl.ConvSpec;
import org.convcl.testing.OpenClTesting;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The kernels directory override: edited sources are used, broken ones fail with the compiler's log. */
class KernelOverrideTest {
    private static final ConvGeometry GEOMETRY = ConvSpec.defaults().resolve(new int[] {6, 2}, new int[] {3, 2, 2});

    @TempDir
    Path kernels;

    @AfterEach
    void clearOverride() {
        System.clearProperty("convcl.kernels.dir");
    }

    @Test
    void brokenKernelSourceFailsWithTheBuildLog() throws IOException {
        OpenClDevice device = OpenClTesting.device();
        String packaged = KernelSources.load("conv_gemm.cl").text();
        Files.writeString(kernels.resolve("conv_gemm.cl"),
                packaged.replace("const int tid = get_local_id(0);", "const int tid = undeclared_on_purpose;"),
                StandardCharsets.UTF_8);
        System.setProperty("convcl.kernels.dir", kernels.toString());
        try (OpenClBackend backend = OpenClBackend.create(device, new ProgramBinaryCache(null))) {
            KernelBuildException error = assertThrows(KernelBuildException.class,
                    () -> backend.forward(GEOMETRY, new float[12], new float[12], null, new float[12]));
            assertTrue(error.buildLog().contains("undeclared_on_purpose"), "the log names the problem:\n" + error.buildLog());
            assertTrue(error.getMessage().contains("conv_gemm.cl"), error.getMessage());
            assertTrue(error.getMessage().contains(kernels.toString()), "the message says where the source came from");
            assertTrue(error.getMessage().contains("-D TILE_M="), "the message shows the build options");
        }
    }

    @Test
    void brokenSharedSourceFailsNamingEveryFileOfTheProgram() throws IOException {
        OpenClDevice device = OpenClTesting.device();
        String packaged = KernelSources.load(ConvPlan.GEOMETRY_SOURCE).text();
        String broken = packaged.replace("return q / input_dilation;", "return q / undeclared_on_purpose;");
        assertTrue(!broken.equals(packaged), "the edit applies to the packaged source");
        Files.writeString(kernels.resolve(ConvPlan.GEOMETRY_SOURCE), broken, StandardCharsets.UTF_8);
        System.setProperty("convcl.kernels.dir", kernels.toString());
        try (OpenClBackend backend = OpenClBackend.create(device, new ProgramBinaryCache(null))) {
            KernelBuildException error = assertThrows(KernelBuildException.class,
                    () -> backend.forward(GEOMETRY, new float[12], new float[12], null, new float[12]));
            assertTrue(error.buildLog().contains("undeclared_on_purpose"), "the log names the problem:\n" + error.buildLog());
            int sharedLines = (int) broken.lines().count();
            assertTrue(error.getMessage().contains(kernels.resolve(ConvPlan.GEOMETRY_SOURCE) + "; build log lines 1-"
                    + sharedLines + ")"), "the message says where the shared file came from and which lines are its:\n"
                    + error.getMessage());
            assertTrue(error.getMessage().contains("conv_gemm.cl (classpath:/kernels/conv_gemm.cl; build log lines "
                    + (sharedLines + 1) + "-"), "and the same for the kernel's own file:\n" + error.getMessage());
        }
    }

    @Test
    void editedSourceInTheOverrideDirectoryIsCompiled() throws IOException {
        OpenClDevice device = OpenClTesting.device();
        String packaged = KernelSources.load("conv_gemm.cl").text();
        // A harmless edit that is visible in the results: every output gets +1.
        String edited = packaged.replace("+ *((__global const floatN*) (bias + group * COUT_G + n));",
                "+ *((__global const floatN*) (bias + group * COUT_G + n)) + 1.0f;");
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
