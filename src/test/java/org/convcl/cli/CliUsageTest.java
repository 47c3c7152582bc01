package org.convcl.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.SplittableRandom;
import org.convcl.nn.ConvGradients;
import org.convcl.ConvSpec;
import org.convcl.Padding;
import org.convcl.Tensor;
import org.convcl.io.Npy;
import org.convcl.testing.BilinearReference;
import org.convcl.testing.ConvReference;
import org.convcl.testing.GoldenCase;
import org.convcl.testing.GradientCheck;
import org.convcl.testing.MaskedReference;
import org.convcl.testing.NaiveConv;
import org.convcl.testing.RandomTensors;
import org.convcl.testing.Reference;
import org.convcl.testing.Tolerance;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The CLI's option forms, mask (forward and backward) and help: what a user types, beyond the golden suite's settings. */
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
        for (String command : new String[] {"conv", "conv-transpose", "pool", "train-wavenet", "examples"}) {
            assertTrue(tool.stdout().contains(command), command + " in " + tool.stdout());
        }
        CliRun conv = CliRun.of("conv", "--help");
        conv.assertSuccess();
        for (String option : new String[] {"--input", "--kernel", "--bias", "--mask", "--strides", "--padding",
            "--input-dilation", "--kernel-dilation", "--groups", "--layout", "--backend", "--output", "--cotangent",
            "--grad-input", "--grad-kernel", "--grad-bias"}) {
            assertTrue(conv.stdout().contains(option), option + " in " + conv.stdout());
        }
        CliRun transpose = CliRun.of("conv-transpose", "--help");
        transpose.assertSuccess();
        for (String option : new String[] {"--input", "--kernel", "--bias", "--strides", "--padding",
            "--kernel-dilation", "--transpose-kernel", "--layout", "--backend", "--output", "--cotangent",
            "--grad-input", "--grad-kernel", "--grad-bias"}) {
            assertTrue(transpose.stdout().contains(option), option + " in " + transpose.stdout());
        }
        CliRun training = CliRun.of("help", "train-wavenet");
        training.assertSuccess();
        for (String option : new String[] {"--steps", "--learning-rate", "--backend"}) {
            assertTrue(training.stdout().contains(option), option + " in " + training.stdout());
        }
        CliRun examples = CliRun.of("help", "examples");
        examples.assertSuccess();
        assertTrue(examples.stdout().contains("--repeats"), examples.stdout());
        assertEquals("", conv.stderr() + tool.stderr() + transpose.stderr() + training.stderr()
                + examples.stderr());
    }

    /**
     * {@code convcl --help} lists each command with its summary, the first line of its header (else of its
     * description): every summary is a whole short sentence, shown whole, not a line cut mid-sentence.
     */
    @Test
    void everyCommandSummaryInTheToolsHelpIsAWholeSentence() {
        CliRun tool = CliRun.of("--help");
        tool.assertSuccess();
        Map<String, String> listed = new LinkedHashMap<>();
        String current = null;
        boolean inCommands = false;
        for (String line : tool.stdout().split("\\R")) {
            if (line.equals("Commands:")) {
                inCommands = true;
            } else if (inCommands && line.isBlank()) {
                break;
            } else if (inCommands && line.matches("  \\S.*")) {
                String[] nameAndSummary = line.strip().split("\\s+", 2);
                current = nameAndSummary[0];
                listed.put(current, nameAndSummary.length > 1 ? nameAndSummary[1] : "");
            } else if (inCommands && current != null) {
                listed.merge(current, line.strip(), (before, more) -> before + " " + more);
            }
        }
        Map<String, CommandLine> commands = new CommandLine(new Main()).getSubcommands();
        assertEquals(commands.keySet(), listed.keySet(), tool.stdout());
        for (Map.Entry<String, CommandLine> command : commands.entrySet()) {
            CommandLine.Model.UsageMessageSpec usage = command.getValue().getCommandSpec().usageMessage();
            String[] summaryLines = usage.header().length > 0 ? usage.header() : usage.description();
            String summary = summaryLines[0];
            assertTrue(summary.endsWith("."), command.getKey() + "'s summary is a sentence: " + summary);
            assertEquals(summary, listed.get(command.getKey()), command.getKey() + " is listed whole");
        }
    }

    @Test
    void withoutACommandTheErrorListsEveryCommand() {
        String line = CliRun.of().assertFailure(Main.EXIT_INVALID, null);
        Set<String> commands = new CommandLine(new Main()).getSubcommands().keySet();
        assertTrue(commands.containsAll(List.of("conv", "conv-transpose", "train-wavenet")), commands.toString());
        for (String command : commands) {
            assertTrue(line.contains(command), command + " in " + line);
        }
    }

    /** With a mask, dK is the masked kernel's gradient times the mask (flax's autodiff), checked by differences. */
    @Test
    void maskedKernelGradientThroughTheCli() throws Exception {
        SplittableRandom random = new SplittableRandom(13);
        Tensor x = RandomTensors.uniform(random, 2, 9, 3);
        Tensor kernel = RandomTensors.uniform(random, 3, 3, 4);
        // Non-negative, as the reference's |term| scales assume; every third tap masked out.
        Tensor mask = RandomTensors.uniform(random, 3, 3, 4);
        for (int i = 0; i < mask.size(); i++) {
            mask.data()[i] = i % 3 == 0 ? 0 : Math.abs(mask.data()[i]) + 0.5f;
        }
        Tensor ct = RandomTensors.uniform(random, 2, 9, 4);
        Path[] files = {dir.resolve("x.npy"), dir.resolve("k.npy"), dir.resolve("m.npy"), dir.resolve("ct.npy")};
        Tensor[] tensors = {x, kernel, mask, ct};
        for (int i = 0; i < files.length; i++) {
            Npy.write(files[i], tensors[i]);
        }
        Path dx = dir.resolve("dx.npy");
        Path dk = dir.resolve("dk.npy");

        CliRun.of("conv", "--input", files[0].toString(), "--kernel", files[1].toString(), "--mask",
                files[2].toString(), "--padding", "causal", "--kernel-dilation", "2", "--backend", "cpu",
                "--output", dir.resolve("y.npy").toString(), "--cotangent", files[3].toString(),
                "--grad-input", dx.toString(), "--grad-kernel", dk.toString()).assertSuccess();

        ConvSpec spec = ConvSpec.builder().padding(Padding.CAUSAL).kernelDilation(2).build();
        BilinearReference f = new MaskedReference(new ConvReference(x.shape(), kernel.shape(), spec),
                Tolerance.toDouble(mask.data()));
        ConvGradients written = new ConvGradients(Npy.read(dx), Npy.read(dk), null);
        GradientCheck.assertGradients("masked", f, Tolerance.toDouble(x.data()), Tolerance.toDouble(kernel.data()),
                Tolerance.toDouble(ct.data()), false, written, new Random(3));
        for (int i = 0; i < mask.size(); i += 3) {
            assertEquals(0.0, Math.abs(written.dkernel().data()[i]), "masked-out tap " + i + " has no gradient");
        }
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
