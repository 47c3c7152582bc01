package org.convcl.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.convcl.Tensor;
import org.convcl.io.Npy;
import org.convcl.testing.ConvTransposeReference;
import org.convcl.testing.GoldenCase;
import org.convcl.testing.GoldenGradients;
import org.convcl.testing.NaiveConv;
import org.convcl.testing.Reference;
import org.convcl.testing.Tolerance;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * End to end through the real {@code scripts/convcl} wrapper and the packaged jar, in separate processes, as
 * a user or an outside test suite runs it. Runs in {@code mvn verify} after {@code package} (failsafe);
 * builds nothing, and is skipped when the jar is not there.
 */
class ScriptIT {
    private static Path project;
    private static Path script;

    @TempDir
    Path dir;

    record Outcome(int exitCode, String stdout, String stderr) {
    }

    @BeforeAll
    static void findTheBuiltJar() throws IOException {
        project = Paths.get(System.getProperty("convcl.basedir", System.getProperty("user.dir")));
        script = project.resolve("scripts").resolve("convcl");
        try (Stream<Path> jars = Files.list(project.resolve("target"))) {
            assumeTrue(jars.anyMatch(p -> p.getFileName().toString().matches("convcl-.*-cli\\.jar")),
                    "the CLI jar is built by mvn package");
        }
    }

    private static Outcome run(Path scriptToRun, List<String> args) throws Exception {
        return run(scriptToRun, args, Map.of());
    }

    private static Outcome run(Path scriptToRun, List<String> args, Map<String, String> environment) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(scriptToRun.toString());
        command.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().remove("CONVCL_DEBUG");
        builder.environment().remove("CONVCL_JAVA_OPTS");
        builder.environment().putAll(environment);
        builder.environment().remove("DISPLAY"); // as on a headless server: nothing may need a display
        Path out = Files.createTempFile("convcl-it", ".out");
        Path err = Files.createTempFile("convcl-it", ".err");
        try {
            Process process = builder.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            process.getOutputStream().close();
            assertTrue(process.waitFor(120, TimeUnit.SECONDS), "finished within 2 minutes: " + command);
            return new Outcome(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    private static Outcome run(String... args) throws Exception {
        return run(script, Arrays.asList(args));
    }

    private static void assertOneLineFailure(Outcome outcome, int code) {
        assertEquals(code, outcome.exitCode(), outcome.stderr());
        assertEquals("", outcome.stdout());
        assertTrue(outcome.stderr().startsWith("convcl: ") && outcome.stderr().endsWith("\n")
                && outcome.stderr().indexOf('\n') == outcome.stderr().length() - 1,
                "one line on stderr: " + outcome.stderr());
    }

    @Test
    void convReproducesAGoldenCaseWithNegativePadding() throws Exception {
        GoldenCase c = GoldenCase.all().stream().filter(g -> g.name().equals("negative_padding_crops")).findFirst()
                .orElseThrow();
        Path output = dir.resolve("y.npy");
        List<String> args = new ArrayList<>(List.of("conv",
                "--input", GoldenCli.copy(c, "x", dir).toString(),
                "--kernel", GoldenCli.copy(c, "kernel", dir).toString(),
                "--bias", GoldenCli.copy(c, "bias", dir).toString()));
        args.addAll(GoldenCli.settings(c));
        args.addAll(List.of("--backend", "cpu", "--output", output.toString()));

        Outcome outcome = run(script, args);

        assertEquals(0, outcome.exitCode(), outcome.stderr());
        assertEquals("", outcome.stdout());
        Tensor y = Npy.read(output);
        NaiveConv.Result reference = Reference.forward(c);
        Tolerance.assertClose(c.name(), reference.shape(), c.reference("y"), reference.absSums(), y.shape(),
                y.data());
    }

    @Test
    void invalidConfigurationExitsTwoWithOneLine() throws Exception {
        GoldenCase c = GoldenCase.all().stream().filter(g -> g.name().equals("causal_2d_refused")).findFirst()
                .orElseThrow();
        Path kernel = dir.resolve("kernel.npy");
        Npy.write(kernel, Tensor.zeros(c.flaxKernelShape()));
        Path output = dir.resolve("y.npy");
        Outcome outcome = run("conv", "--input", GoldenCli.copy(c, "x", dir).toString(), "--kernel",
                kernel.toString(), "--padding", "CAUSAL", "--output", output.toString());
        assertOneLineFailure(outcome, 2);
        assertTrue(outcome.stderr().contains("CAUSAL"), outcome.stderr());
        assertFalse(Files.exists(output));

        assertOneLineFailure(run("conv", "--bogus"), 2);
    }

    @Test
    void missingInputExitsTwoWithOneLine() throws Exception {
        Path output = dir.resolve("y.npy");
        Path missing = dir.resolve("missing.npy");
        Outcome outcome = run("conv", "--input", missing.toString(), "--kernel",
                dir.resolve("k.npy").toString(), "--output", output.toString());
        assertOneLineFailure(outcome, 2);
        assertEquals("convcl: --input " + missing + ": no such file; an input must be an existing file\n",
                outcome.stderr());
        assertFalse(Files.exists(output));
    }

    /**
     * The launcher asks the JVM for transparent huge pages where the kernel gives them on request only
     * ({@code [madvise]}; under {@code always} and {@code never} it adds nothing), and {@code CONVCL_JAVA_OPTS},
     * which comes after its own options, turns them off.
     */
    @Test
    void theLauncherAsksForHugePagesWhereTheyAreGivenOnRequest() throws Exception {
        Path modeFile = Path.of("/sys/kernel/mm/transparent_hugepage/enabled");
        boolean onRequest = Files.isReadable(modeFile) && Files.readString(modeFile).contains("[madvise]");
        assertEquals(onRequest, hugePages(run(script, List.of("--version"),
                Map.of("CONVCL_JAVA_OPTS", "-XX:+PrintFlagsFinal"))));
        assertFalse(hugePages(run(script, List.of("--version"),
                Map.of("CONVCL_JAVA_OPTS", "-XX:+PrintFlagsFinal -XX:-UseTransparentHugePages"))));
    }

    /** The JVM's final UseTransparentHugePages, from its -XX:+PrintFlagsFinal table. */
    private static boolean hugePages(Outcome outcome) {
        assertEquals(0, outcome.exitCode(), outcome.stderr());
        String flag = outcome.stdout().lines().filter(line -> line.contains(" UseTransparentHugePages ")).findFirst()
                .orElseThrow(() -> new AssertionError("no UseTransparentHugePages in:\n" + outcome.stdout()));
        return flag.matches(".*=\\s*true\\s.*");
    }

    @Test
    void examplesHelpAndVersion() throws Exception {
        Outcome examples = run("examples", "--repeats", "2");
        assertEquals(0, examples.exitCode(), examples.stderr());
        for (SeedExamples.Example example : SeedExamples.all()) {
            assertTrue(examples.stdout().contains(example.name()), example.name());
        }
        Outcome help = run("--help");
        assertEquals(0, help.exitCode());
        assertTrue(help.stdout().contains("conv"), help.stdout());
        Outcome version = run("--version");
        assertEquals(0, version.exitCode());
        assertTrue(version.stdout().startsWith("convcl " + Version.number()), version.stdout());
    }

    /**
     * {@code scripts/bench-vs-peers --model}'s argument errors: exit 2 and one line naming the option and the value,
     * before any tool is looked for or anything exported, so that they need neither Python nor Maven.
     */
    @Test
    void benchVsPeersModelRefusesBadArgumentsBeforeAnyWork() throws Exception {
        Path peers = project.resolve("scripts").resolve("bench-vs-peers");
        Path missing = dir.resolve("no-weights");
        List<List<String>> refused = List.of(
                List.of("--model", "resnet34"), List.of("--model", "resnet50", "--batches", "0,8"),
                List.of("--model", "resnet50", "--batches", "1,"), List.of("--model", "resnet50", "--reps", "0"),
                List.of("--model", "resnet18", "--passes", "x"), List.of("--model", "resnet18", "--warmup", "-1"),
                List.of("--model", "resnet50", "--weights", missing.toString()),
                List.of("--model", "resnet50", "--shapes", "resnet3x3"), List.of("--model", "resnet50", "--bogus"),
                List.of("--model"));
        List<String> named = List.of("--model: got 'resnet34'", "--batches: got '0,8'", "--batches: got '1,'",
                "--reps: got '0'", "--passes: got 'x'", "--warmup: got '-1'", "--weights " + missing,
                "--shapes", "unknown argument '--bogus'", "--model needs a value");
        for (int i = 0; i < refused.size(); i++) {
            Outcome outcome = run(peers, refused.get(i));
            assertEquals(2, outcome.exitCode(), refused.get(i) + ": " + outcome.stderr());
            assertEquals("", outcome.stdout(), refused.get(i).toString());
            assertTrue(outcome.stderr().startsWith("bench-vs-peers: " + named.get(i))
                    && outcome.stderr().indexOf('\n') == outcome.stderr().length() - 1,
                    refused.get(i) + ": one line naming " + named.get(i) + ": " + outcome.stderr());
        }
        assertFalse(Files.exists(missing), "nothing exported");
    }

    @Test
    void demoDrawsTheReadmePictureWithoutADisplayOrFonts() throws Exception {
        Path output = dir.resolve("knobs.png");
        Outcome outcome = run("demo", "--backend", "cpu", "--output", output.toString());
        assertEquals(0, outcome.exitCode(), outcome.stderr());
        assertEquals("", outcome.stdout() + outcome.stderr());
        BufferedImage picture = ImageIO.read(output.toFile());
        BufferedImage readme = ImageIO.read(project.resolve("docs").resolve("knobs.png").toFile());
        assertEquals(readme.getWidth(), picture.getWidth());
        assertEquals(readme.getHeight(), picture.getHeight());
    }

    @Test
    void withoutTheJarTheWrapperSaysHowToBuildIt() throws Exception {
        Path copy = dir.resolve("project").resolve("scripts").resolve("convcl");
        Files.createDirectories(copy.getParent());
        Files.copy(script, copy);
        assertTrue(copy.toFile().setExecutable(true));
        Outcome outcome = run(copy, List.of("--help"));
        assertEquals(1, outcome.exitCode());
        assertTrue(outcome.stderr().contains("mvn -q -B -DskipTests package"), outcome.stderr());
    }

    /** {@code conv} with the backward pass, on every backend of {@link CliBackends}: Y, dX, dK, dB as flax. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("org.convcl.cli.CliBackends#names")
    void convWithGradientsReproducesAGoldenCase(String backend) throws Exception {
        GoldenCase c = golden("grad_conv2d_strided_dilated");
        Path y = dir.resolve("y.npy");
        Path dx = dir.resolve("dx.npy");
        Path dk = dir.resolve("dk.npy");
        Path db = dir.resolve("db.npy");
        List<String> args = new ArrayList<>(List.of("conv",
                "--input", GoldenCli.copy(c, "x", dir).toString(),
                "--kernel", GoldenCli.copy(c, "kernel", dir).toString(),
                "--bias", GoldenCli.copy(c, "bias", dir).toString()));
        args.addAll(GoldenCli.settings(c));
        args.addAll(List.of("--backend", backend, "--output", y.toString(),
                "--cotangent", GoldenCli.copy(c, "ct", dir).toString(), "--grad-input", dx.toString(),
                "--grad-kernel", dk.toString(), "--grad-bias", db.toString()));

        Outcome outcome = run(script, args);

        assertEquals(0, outcome.exitCode(), outcome.stderr());
        assertEquals("", outcome.stdout());
        Tensor output = Npy.read(y);
        NaiveConv.Result reference = Reference.forward(c);
        Tolerance.assertClose(c.name(), reference.shape(), c.reference("y"), reference.absSums(), output.shape(),
                output.data());
        GoldenGradients.assertMatchFlax(c, Npy.read(dx), Npy.read(dk), Npy.read(db));
    }

    /** {@code conv-transpose} with flax's transpose_kernel and CIRCULAR padding, on every backend. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("org.convcl.cli.CliBackends#names")
    void convTransposeReproducesAGoldenCase(String backend) throws Exception {
        GoldenCase c = golden("transpose_kernel_flag");
        Path y = dir.resolve("y.npy");
        List<String> args = new ArrayList<>(List.of("conv-transpose",
                "--input", GoldenCli.copy(c, "x", dir).toString(),
                "--kernel", GoldenCli.copy(c, "kernel", dir).toString(),
                "--bias", GoldenCli.copy(c, "bias", dir).toString()));
        args.addAll(GoldenCli.transposeSettings(c));
        assertTrue(c.transposeKernel() && "CIRCULAR".equals(c.padding()) && args.contains("--transpose-kernel"),
                "the case this test is about: " + args);
        args.addAll(List.of("--backend", backend, "--output", y.toString()));

        Outcome outcome = run(script, args);

        assertEquals(0, outcome.exitCode(), outcome.stderr());
        assertEquals("", outcome.stdout());
        Tensor output = Npy.read(y);
        NaiveConv.Result reference = ConvTransposeReference.of(c).forward(Tolerance.toDouble(c.array("x").data()),
                Tolerance.toDouble(c.array("kernel").data()), Tolerance.toDouble(c.array("bias").data()));
        Tolerance.assertClose(c.name(), reference.shape(), c.reference("y"), reference.absSums(), output.shape(),
                output.data());
    }

    @Test
    void gradientOptionErrorsExitWithTheirCodesAndWriteNothing() throws Exception {
        GoldenCase c = golden("grad_circular");
        String x = GoldenCli.copy(c, "x", dir).toString();
        String kernel = GoldenCli.copy(c, "kernel", dir).toString();
        String ct = GoldenCli.copy(c, "ct", dir).toString();
        Path y = dir.resolve("y.npy");
        Path dx = dir.resolve("dx.npy");
        Path dk = dir.resolve("no-such-dir").resolve("dk.npy");
        for (String command : new String[] {"conv", "conv-transpose"}) {
            Outcome orphan = run(command, "--input", x, "--kernel", kernel, "--padding", "circular",
                    "--output", y.toString(), "--grad-input", dx.toString());
            assertOneLineFailure(orphan, 2);
            assertTrue(orphan.stderr().contains("--cotangent"), orphan.stderr());
            Outcome unwritable = run(command, "--input", x, "--kernel", kernel, "--padding", "circular",
                    "--output", y.toString(), "--cotangent", ct, "--grad-input", dx.toString(),
                    "--grad-kernel", dk.toString());
            assertOneLineFailure(unwritable, 2);
            assertTrue(unwritable.stderr().contains("--grad-kernel " + dk + ": directory"), unwritable.stderr());
            assertFalse(Files.exists(y) || Files.exists(dx) || Files.exists(dk.getParent()));
        }
    }

    @Test
    void trainWavenetPrintsTheLossGoingDown() throws Exception {
        Outcome outcome = run("train-wavenet", "--steps", "20", "--backend", CliBackends.ALL.get(0));
        assertEquals(0, outcome.exitCode(), outcome.stderr());
        assertEquals("", outcome.stderr());
        assertTrue(outcome.stdout().contains("step    0") && outcome.stdout().contains("step   20")
                && outcome.stdout().contains("loss fell"), outcome.stdout());
    }

    private static GoldenCase golden(String name) {
        return GoldenCase.all().stream().filter(g -> g.name().equals(name)).findFirst().orElseThrow();
    }
}
