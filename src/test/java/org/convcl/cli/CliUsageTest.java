package org.convcl.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.convcl.Padding;
import org.convcl.Tensor;
import org.convcl.io.Npy;
import org.convcl.testing.GoldenCase;
import org.convcl.testing.NaiveConv;
import org.convcl.testing.RandomTensors;
import org.convcl.testing.Reference;
import org.convcl.testing.Tolerance;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI's option forms, mask and help: what a user types, beyond the golden suite's settings. */
class CliUsageTest {

    @TempDir
    Path dir;

    @Test
    void negativePaddingWorksWithAndWithoutEqualsSign() throws Exception {
        GoldenCase c = GoldenCase.all().stream().filter(g -> g.name().equals("negative_padding_crops")).findFirst()
                .orElseThrow();
        assertEquals("-2:1,0:-3", GoldenCli.padding(c), "the case this test is about");
        String x = GoldenCli.copy(c, "x", dir).toString();
        String kernel = GoldenCli.copy(c, "kernel", dir).toString();
        String bias = GoldenCli.copy(c, "bias", dir).toString();
        Path separate = dir.resolve("separate.npy");
        Path joined = dir.resolve("joined.npy");

        CliRun.of("conv", "--input", x, "--kernel", kernel, "--bias", bias, "--padding", "-2:1,0:-3",
                "--output", separate.toString()).assertSuccess();
        CliRun.of("conv", "--input", x, "--kernel", kernel, "--bias", bias, "--padding=-2:1,0:-3",
                "--output=" + joined).assertSuccess();

        NaiveConv.Result reference = Reference.forward(c);
        for (Path output : new Path[] {separate, joined}) {
            Tensor y = Npy.read(output);
            Tolerance.assertClose(output.getFileName().toString(), reference.shape(), c.reference("y"),
                    reference.absSums(), y.shape(), y.data());
        }
    }

    @Test
    void maskIsMultipliedIntoTheKernel() throws Exception {
        SplittableRandom random = new SplittableRandom(11);
        Tensor x = RandomTensors.uniform(random, 2, 9, 3);
        Tensor kernel = RandomTensors.uniform(random, 3, 3, 4);
        float[] maskValues = new float[kernel.size()];
        double[] maskedKernel = new double[kernel.size()];
        for (int i = 0; i < maskValues.length; i++) {
            maskValues[i] = i % 3 == 0 ? 0f : (float) random.nextDouble(-2, 2);
            maskedKernel[i] = (double) kernel.data()[i] * maskValues[i];
        }
        Path xFile = dir.resolve("x.npy");
        Path kernelFile = dir.resolve("k.npy");
        Path maskFile = dir.resolve("m.npy");
        Path output = dir.resolve("y.npy");
        Npy.write(xFile, x);
        Npy.write(kernelFile, kernel);
        Npy.write(maskFile, Tensor.of(maskValues, kernel.shape()));

        CliRun.of("conv", "--input", xFile.toString(), "--kernel", kernelFile.toString(), "--mask",
                maskFile.toString(), "--padding", "causal", "--kernel-dilation", "2", "--output", output.toString())
                .assertSuccess();

        NaiveConv.Result reference = Reference.forward(Tolerance.toDouble(x.data()), x.shape(), maskedKernel,
                kernel.shape(), null, new int[] {1}, new int[] {1}, new int[] {2}, Padding.CAUSAL, 1);
        Tensor y = Npy.read(output);
        Tolerance.assertClose("masked", reference.shape(), reference.values(), reference.absSums(), y.shape(),
                y.data());
    }

    @Test
    void outputIsLittleEndianFloat32() throws Exception {
        Path xFile = dir.resolve("x.npy");
        Path kernelFile = dir.resolve("k.npy");
        Path output = dir.resolve("y.npy");
        SplittableRandom random = new SplittableRandom(3);
        Npy.write(xFile, RandomTensors.uniform(random, 5, 2));
        Npy.write(kernelFile, RandomTensors.uniform(random, 2, 2, 3));
        CliRun.of("conv", "--input", xFile.toString(), "--kernel", kernelFile.toString(), "--output",
                output.toString()).assertSuccess();
        byte[] bytes = Files.readAllBytes(output);
        int dataStart = bytes.length - 5 * 3 * 4;
        String header = new String(bytes, 0, dataStart, StandardCharsets.ISO_8859_1);
        assertTrue(header.startsWith("\u0093NUMPY") && header.contains("'descr': '<f4'")
                && header.contains("'shape': (5, 3)"), header);
        assertEquals(0, dataStart % 64, "numpy aligns the data to 64 bytes");
    }

    @Test
    void helpOnTheToolAndEachCommand() {
        CliRun tool = CliRun.of("--help");
        tool.assertSuccess();
        assertTrue(tool.stdout().contains("conv") && tool.stdout().contains("examples"), tool.stdout());
        CliRun conv = CliRun.of("conv", "--help");
        conv.assertSuccess();
        for (String option : new String[] {"--input", "--kernel", "--bias", "--mask", "--strides", "--padding",
            "--input-dilation", "--kernel-dilation", "--groups", "--backend", "--output"}) {
            assertTrue(conv.stdout().contains(option), option + " in " + conv.stdout());
        }
        CliRun examples = CliRun.of("help", "examples");
        examples.assertSuccess();
        assertTrue(examples.stdout().contains("--repeats"), examples.stdout());
        assertEquals("", conv.stderr() + tool.stderr() + examples.stderr());
    }

    @Test
    void versionNamesTheProjectVersion() {
        CliRun version = CliRun.of("--version");
        version.assertSuccess();
        assertTrue(version.stdout().startsWith("convcl " + Version.number()), version.stdout());
        assertTrue(!Version.number().equals("unknown") && !Version.number().contains("${"), Version.number());
    }

    @Test
    void examplesRunEverySeedConfiguration() {
        CliRun run = CliRun.of("examples", "--repeats", "1", "--backend", "cpu");
        run.assertSuccess();
        for (SeedExamples.Example example : SeedExamples.all()) {
            assertTrue(run.stdout().contains(example.name()), example.name());
            assertTrue(run.stdout().contains(Arrays.toString(example.expectedOutputShape())),
                    example.name() + " output shape");
        }
        assertTrue(run.stdout().contains("every output shape is flax's"), run.stdout());
        assertEquals("", run.stderr());
    }

    @Test
    void examplesRefuseZeroRepeats() {
        CliRun.of("examples", "--repeats", "0").assertFailure(Main.EXIT_INVALID, null);
    }

    @Test
    void seedExampleShapesAreTheGoldenManifests() {
        for (SeedExamples.Example example : SeedExamples.all()) {
            GoldenCase.all().stream().filter(c -> c.name().equals(example.name())).findFirst().ifPresent(c -> {
                assertArrayEquals(c.inputShape(), example.inputShape(), example.name());
                assertArrayEquals(c.flaxKernelShape(), example.kernelShape(), example.name());
                assertEquals(c.spec(), example.spec(), example.name());
                assertArrayEquals(c.array("y").shape(), example.expectedOutputShape(), example.name());
            });
        }
    }
}
