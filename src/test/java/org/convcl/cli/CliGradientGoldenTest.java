package org.convcl.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.convcl.Tensor;
import org.convcl.io.Npy;
import org.convcl.testing.CiShare;
import org.convcl.testing.GoldenCase;
import org.convcl.testing.GoldenGradients;
import org.convcl.testing.NaiveConv;
import org.convcl.testing.Reference;
import org.convcl.testing.Tolerance;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every golden case with gradients through {@code convcl conv --cotangent}, on every backend of
 * {@link CliBackends}: Y, dX, dK and dB (when the case has a bias) read back from the files the CLI wrote
 * and compared with flax's float64 references by the library's golden rules.
 */
class CliGradientGoldenTest {

    @TempDir
    Path dir;

    /**
     * Every other gradient case (CI's share, {@link CiShare}: each case is a CLI process per backend) on every
     * backend; the library itself runs every case in GoldenGradientTest.
     */
    static Stream<Arguments> gradientCasesOnEveryBackend() {
        return CliBackends.crossedWith(CiShare.defaultRun(GoldenCase.all().stream().filter(GoldenCase::grads).toList(),
                2));
    }

    /** The gradient cases CI leaves to {@code mvn -o -B test -Pexhaustive}, on every backend. */
    static Stream<Arguments> otherGradientCasesOnEveryBackend() {
        return CliBackends.crossedWith(CiShare.exhaustiveRun(
                GoldenCase.all().stream().filter(GoldenCase::grads).toList(), 2));
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("gradientCasesOnEveryBackend")
    void writesFlaxsOutputAndGradients(GoldenCase c, String backend) throws Exception {
        checkOutputAndGradients(c, backend);
    }

    @Tag("exhaustive")
    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("otherGradientCasesOnEveryBackend")
    void writesFlaxsOutputAndGradientsOnTheOtherCases(GoldenCase c, String backend) throws Exception {
        checkOutputAndGradients(c, backend);
    }

    private void checkOutputAndGradients(GoldenCase c, String backend) throws Exception {
        Path y = dir.resolve("y.npy");
        Path dx = dir.resolve("dx.npy");
        Path dk = dir.resolve("dk.npy");
        Path db = dir.resolve("db.npy");
        List<String> args = new ArrayList<>(List.of("conv",
                "--input", GoldenCli.copy(c, "x", dir).toString(),
                "--kernel", GoldenCli.copy(c, "kernel", dir).toString()));
        args.addAll(GoldenCli.biasIfAny(c, dir));
        args.addAll(GoldenCli.settings(c));
        args.addAll(List.of("--backend", backend, "--output", y.toString(),
                "--cotangent", GoldenCli.copy(c, "ct", dir).toString(),
                "--grad-input", dx.toString(), "--grad-kernel", dk.toString()));
        if (c.has("bias")) {
            args.addAll(List.of("--grad-bias", db.toString()));
        }

        CliRun run = CliRun.of(args);

        run.assertSuccess();
        assertEquals("", run.stdout(), "conv prints nothing on stdout");
        Tensor output = Npy.read(y);
        NaiveConv.Result reference = Reference.forward(c);
        Tolerance.assertClose(c.name() + " y", reference.shape(), c.reference("y"), reference.absSums(),
                output.shape(), output.data());
        GoldenGradients.assertMatchFlax(c, Npy.read(dx), Npy.read(dk), c.has("bias") ? Npy.read(db) : null);
        if (!c.has("bias")) {
            assertFalse(Files.exists(db), "no bias, no bias gradient");
        }
    }
}
