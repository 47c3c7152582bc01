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
import org.convcl.testing.NaiveConv;
import org.convcl.testing.Reference;
import org.convcl.testing.Tolerance;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every forward golden case of flax nnx.Conv through {@code convcl conv}, in-process, files in and out. */
class CliGoldenTest {

    @TempDir
    Path dir;

    static Stream<GoldenCase> computedCases() {
        return GoldenCase.ofOp("conv").stream().filter(c -> c.error() == null);
    }

    /**
     * Every third computed case (CI's share, {@link CiShare}: each case is two CLI processes) on every backend of
     * {@link CliBackends} ({@code --backend opencl} included); the library itself runs every case in GoldenConvTest.
     */
    static Stream<org.junit.jupiter.params.provider.Arguments> computedCasesOnEachBackend() {
        return CliBackends.crossedWith(CiShare.defaultRun(computedCases().toList(), 3));
    }

    /** The computed cases CI leaves to {@code mvn -o -B test -Pexhaustive}, on every backend. */
    static Stream<org.junit.jupiter.params.provider.Arguments> otherComputedCasesOnEachBackend() {
        return CliBackends.crossedWith(CiShare.exhaustiveRun(computedCases().toList(), 3));
    }

    static Stream<GoldenCase> refusedCases() {
        return GoldenCase.ofOp("conv").stream().filter(c -> c.error() != null);
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("computedCasesOnEachBackend")
    void reproducesFlax(GoldenCase c, String backend) throws Exception {
        checkReproducesFlax(c, backend);
    }

    @Tag("exhaustive")
    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("otherComputedCasesOnEachBackend")
    void reproducesFlaxOnTheOtherCases(GoldenCase c, String backend) throws Exception {
        checkReproducesFlax(c, backend);
    }

    private void checkReproducesFlax(GoldenCase c, String backend) throws Exception {
        Path output = dir.resolve("y.npy");
        List<String> args = new ArrayList<>(List.of("conv", "--backend", backend,
                "--input", GoldenCli.copy(c, "x", dir).toString(),
                "--kernel", GoldenCli.copy(c, "kernel", dir).toString()));
        if (c.has("bias")) {
            args.add("--bias");
            args.add(GoldenCli.copy(c, "bias", dir).toString());
        }
        args.addAll(GoldenCli.settings(c));
        args.add("--output");
        args.add(output.toString());

        CliRun run = CliRun.of(args);

        run.assertSuccess();
        assertEquals("", run.stdout(), "conv prints nothing on stdout");
        Tensor y = Npy.read(output);
        NaiveConv.Result reference = Reference.forward(c);
        Tolerance.assertClose(c.name(), reference.shape(), c.reference("y"), reference.absSums(), y.shape(),
                y.data());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("refusedCases")
    void refusesWhatFlaxRefusesWithExitCode2(GoldenCase c) throws Exception {
        Path output = dir.resolve("y.npy");
        Path kernel = dir.resolve("kernel.npy");
        Npy.write(kernel, Tensor.zeros(c.flaxKernelShape()));
        List<String> args = new ArrayList<>(List.of("conv",
                "--input", GoldenCli.copy(c, "x", dir).toString(), "--kernel", kernel.toString()));
        args.addAll(GoldenCli.settings(c));
        args.add("--output");
        args.add(output.toString());

        CliRun.of(args).assertFailure(Main.EXIT_INVALID, output);
        assertFalse(Files.exists(output));
    }
}
