package org.convcl.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.convcl.nn.ConvGradients;
import org.convcl.Tensor;
import org.convcl.io.Npy;
import org.convcl.testing.ConvTransposeReference;
import org.convcl.testing.GoldenCase;
import org.convcl.testing.GradientCheck;
import org.convcl.testing.NaiveConv;
import org.convcl.testing.RandomTensors;
import org.convcl.testing.Tolerance;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code convcl conv-transpose}: every golden flax nnx.ConvTranspose case, forward and backward, on every
 * backend of {@link CliBackends}; the --transpose-kernel flag; what flax's ConvTranspose refuses.
 */
class CliConvTransposeTest {

    @TempDir
    Path dir;

    static Stream<GoldenCase> transposeCases() {
        return GoldenCase.ofOp("conv_transpose").stream().filter(c -> c.error() == null);
    }

    static Stream<Arguments> transposeCasesOnEveryBackend() {
        return CliBackends.crossedWith(transposeCases());
    }

    /** {@code conv-transpose} with the case's files and settings, then {@code extra}, writing Y to {@code y}. */
    private List<String> commandLine(GoldenCase c, String backend, Path y) {
        List<String> args = new ArrayList<>(List.of("conv-transpose",
                "--input", GoldenCli.copy(c, "x", dir).toString(),
                "--kernel", GoldenCli.copy(c, "kernel", dir).toString()));
        args.addAll(GoldenCli.biasIfAny(c, dir));
        args.addAll(GoldenCli.transposeSettings(c));
        args.addAll(List.of("--backend", backend, "--output", y.toString()));
        return args;
    }

    private static NaiveConv.Result reference(GoldenCase c, boolean withBias) {
        double[] bias = withBias && c.has("bias") ? Tolerance.toDouble(c.array("bias").data()) : null;
        return ConvTransposeReference.of(c).forward(Tolerance.toDouble(c.array("x").data()),
                Tolerance.toDouble(c.array("kernel").data()), bias);
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("transposeCasesOnEveryBackend")
    void reproducesFlax(GoldenCase c, String backend) throws IOException {
        Path y = dir.resolve("y.npy");

        CliRun run = CliRun.of(commandLine(c, backend, y));

        run.assertSuccess();
        assertEquals("", run.stdout(), "conv-transpose prints nothing on stdout");
        Tensor output = Npy.read(y);
        NaiveConv.Result reference = reference(c, true);
        Tolerance.assertClose(c.name(), reference.shape(), c.reference("y"), reference.absSums(), output.shape(),
                output.data());
    }

    /**
     * The suite has no transposed gradients, so a cotangent is drawn at random and the gradients the CLI
     * writes are checked against central differences of the float64 reference (on sampled elements; dB in
     * full) and, in full, by the adjoint identities {@code <y - b, ct> = <x, dX> = <K, dK>}.
     */
    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("transposeCasesOnEveryBackend")
    void writesGradientsOfTheTransposedConvolution(GoldenCase c, String backend) throws IOException {
        Path y = dir.resolve("y.npy");
        Path ct = dir.resolve("ct.npy");
        Path dx = dir.resolve("dx.npy");
        Path dk = dir.resolve("dk.npy");
        Path db = dir.resolve("db.npy");
        Npy.write(ct, RandomTensors.uniform(new SplittableRandom(c.name().hashCode()), c.array("y").shape()));
        List<String> args = commandLine(c, backend, y);
        args.addAll(List.of("--cotangent", ct.toString(), "--grad-input", dx.toString(), "--grad-kernel",
                dk.toString()));
        if (c.has("bias")) {
            args.addAll(List.of("--grad-bias", db.toString()));
        }

        CliRun.of(args).assertSuccess();

        double[] x = Tolerance.toDouble(c.array("x").data());
        double[] w = Tolerance.toDouble(c.array("kernel").data());
        double[] dy = Tolerance.toDouble(Npy.read(ct).data());
        ConvGradients written = new ConvGradients(Npy.read(dx), Npy.read(dk), c.has("bias") ? Npy.read(db) : null);
        assertArrayEquals(c.array("x").shape(), written.dx().shape(), "dX has X's shape");
        assertArrayEquals(c.array("kernel").shape(), written.dkernel().shape(), "dK has K's shape");
        ConvTransposeReference f = ConvTransposeReference.of(c);
        GradientCheck.assertGradients(c.name(), f, x, w, dy, c.has("bias"), written, new Random(7));
        NaiveConv.Result withoutBias = reference(c, false);
        GradientCheck.assertAdjoint(c.name(), withoutBias.values(), withoutBias.absSums(), dy, x,
                Tolerance.toDouble(written.dx().data()), w, Tolerance.toDouble(written.dkernel().data()));
    }

    /**
     * Without --transpose-kernel, a case made with flax's transpose_kernel=True is either refused (its kernel's
     * channels no longer fit) or gives another result than flax's: the flag is what makes the golden cases pass.
     */
    @Test
    void transposeKernelFlagIsHonoured() throws IOException {
        List<GoldenCase> transposed = transposeCases().filter(GoldenCase::transposeKernel).toList();
        assertTrue(transposed.size() >= 2, "cases with transpose_kernel: " + transposed);
        int refused = 0;
        int differing = 0;
        for (GoldenCase c : transposed) {
            Path caseDir = Files.createDirectory(dir.resolve(c.name()));
            Path y = caseDir.resolve("y.npy");
            List<String> args = new ArrayList<>(List.of("conv-transpose",
                    "--input", GoldenCli.copy(c, "x", caseDir).toString(),
                    "--kernel", GoldenCli.copy(c, "kernel", caseDir).toString()));
            args.addAll(GoldenCli.biasIfAny(c, caseDir));
            args.addAll(GoldenCli.transposeSettings(c));
            assertTrue(args.remove("--transpose-kernel"));
            args.addAll(List.of("--backend", CliBackends.ALL.get(0), "--output", y.toString()));

            CliRun run = CliRun.of(args);

            if (run.exitCode() == Main.EXIT_INVALID) {
                String line = run.assertFailure(Main.EXIT_INVALID, y);
                assertTrue(line.contains("channels"), line);
                refused++;
                continue;
            }
            run.assertSuccess();
            Tensor output = Npy.read(y);
            double[] flax = c.reference("y");
            boolean sameAsFlax = output.size() == flax.length;
            for (int i = 0; sameAsFlax && i < flax.length; i++) {
                sameAsFlax = Math.abs(output.data()[i] - flax[i]) <= 1e-3 * (1 + Math.abs(flax[i]));
            }
            assertFalse(sameAsFlax, c.name() + ": without the flag the output should differ from flax's");
            differing++;
        }
        assertTrue(refused > 0 && differing > 0, "both outcomes seen: refused " + refused + ", differing "
                + differing);
    }

    @ParameterizedTest
    @ValueSource(strings = {"REFLECT", "causal"})
    void refusesPaddingsFlaxConvTransposeRefuses(String padding) throws IOException {
        Path y = dir.resolve("y.npy");
        String line = CliRun.of(smallCall("--padding", padding, "--output", y.toString()))
                .assertFailure(Main.EXIT_INVALID, y);
        assertTrue(line.contains("padding") && line.contains(padding.toUpperCase()), line);
    }

    @Test
    void refusesSameLowerWithStridesAsJaxDoes() throws IOException {
        Path y = dir.resolve("y.npy");
        String line = CliRun.of(smallCall("--padding", "same_lower", "--strides", "2", "--output", y.toString()))
                .assertFailure(Main.EXIT_INVALID, y);
        assertTrue(line.contains("SAME_LOWER") && line.contains("[2]"), line);
    }

    @Test
    void refusesFourSpatialDims() throws IOException {
        Path y = dir.resolve("y.npy");
        Path x = dir.resolve("x4.npy");
        Path k = dir.resolve("k4.npy");
        SplittableRandom random = new SplittableRandom(4);
        Npy.write(x, RandomTensors.uniform(random, 3, 3, 3, 3, 2));
        Npy.write(k, RandomTensors.uniform(random, 2, 2, 2, 2, 2, 1));
        String line = CliRun.of("conv-transpose", "--input", x.toString(), "--kernel", k.toString(), "--output",
                y.toString()).assertFailure(Main.EXIT_INVALID, y);
        assertTrue(line.contains("kernel") && line.contains("4 spatial dims"), line);
    }

    @Test
    void refusesConvOnlyOptions() throws IOException {
        Path y = dir.resolve("y.npy");
        for (String option : new String[] {"--groups", "--input-dilation", "--mask"}) {
            String line = CliRun.of(smallCall(option, "2", "--output", y.toString()))
                    .assertFailure(Main.EXIT_INVALID, y);
            assertTrue(line.contains(option), line);
        }
    }

    @Test
    void badStridesAndDilationsNameTheOption() throws IOException {
        Path y = dir.resolve("y.npy");
        for (String option : new String[] {"--strides", "--kernel-dilation"}) {
            String zero = CliRun.of(smallCall(option, "0", "--output", y.toString()))
                    .assertFailure(Main.EXIT_INVALID, y);
            assertTrue(zero.contains("[0]"), zero);
            String text = CliRun.of(smallCall(option, "2,x", "--output", y.toString()))
                    .assertFailure(Main.EXIT_INVALID, y);
            assertTrue(text.contains(option) && text.contains("'x'"), text);
        }
        assertFalse(Files.exists(y));
    }

    /** {@code conv-transpose} on a small 1-d input and kernel, with {@code extra} options. */
    private List<String> smallCall(String... extra) throws IOException {
        Path x = dir.resolve("x.npy");
        Path k = dir.resolve("k.npy");
        SplittableRandom random = new SplittableRandom(9);
        Npy.write(x, RandomTensors.uniform(random, 2, 7, 3));
        Npy.write(k, RandomTensors.uniform(random, 3, 3, 2));
        List<String> args = new ArrayList<>(List.of("conv-transpose", "--input", x.toString(), "--kernel",
                k.toString()));
        args.addAll(List.of(extra));
        return args;
    }
}
