package org.convcl.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.convcl.nn.ConvGradients;
import org.convcl.Tensor;
import org.convcl.io.Npy;
import org.convcl.testing.ChannelsFirstData;
import org.convcl.testing.ChannelsFirstGoldenCases;
import org.convcl.testing.ConvTransposeReference;
import org.convcl.testing.GoldenCase;
import org.convcl.testing.NaiveConv;
import org.convcl.testing.Reference;
import org.convcl.testing.Tolerance;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code --layout channels-first} through {@code convcl conv} and {@code convcl conv-transpose}, in-process, on
 * every backend of {@link CliBackends}: golden cases whose {@code .npy} inputs were moved to channels-first
 * (every batch-dim count, four spatial dims, groups and dilations, a backward pass, transposed kernels), compared
 * with flax's references moved likewise; and the option's refusals.
 */
class CliChannelsFirstTest {
    private static final Set<String> CONV_CASES = Set.of("seed_same_2d_unbatched", "seed_same_2d_two_batch_dims",
            "seed_4_spatial_dims", "everything_at_once_2d", "seed_reflect_2d", "conv3d_same_stride");
    private static final Set<String> TRANSPOSE_CASES = Set.of("transpose_same_stride2_2d", "transpose_kernel_flag",
            "random_transpose_02_3d", "random_transpose_05_2d");

    @TempDir
    Path dir;

    static Stream<Arguments> convCasesOnEachBackend() {
        return CliBackends.crossedWith(GoldenCase.ofOp("conv").stream().filter(c -> CONV_CASES.contains(c.name())));
    }

    static Stream<Arguments> gradientCaseOnEachBackend() {
        return CliBackends.crossedWith(GoldenCase.all().stream()
                .filter(c -> c.name().equals("grad_conv1d_input_dilation_groups")));
    }

    static Stream<Arguments> transposeCasesOnEachBackend() {
        return CliBackends.crossedWith(GoldenCase.ofOp("conv_transpose").stream()
                .filter(c -> TRANSPOSE_CASES.contains(c.name())));
    }

    @Test
    void theCasesExist() {
        assertEquals(CONV_CASES.size() * CliBackends.ALL.size(), convCasesOnEachBackend().count());
        assertEquals(TRANSPOSE_CASES.size() * CliBackends.ALL.size(), transposeCasesOnEachBackend().count());
        assertEquals(CliBackends.ALL.size(), gradientCaseOnEachBackend().count());
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("convCasesOnEachBackend")
    void convReproducesFlax(GoldenCase c, String backend) throws IOException {
        Path y = dir.resolve("y.npy");
        List<String> args = convArguments(c, backend, y);

        CliRun run = CliRun.of(args);

        run.assertSuccess();
        assertEquals("", run.stdout());
        NaiveConv.Result reference = Reference.forward(c);
        ChannelsFirstGoldenCases.assertActivationClose(c.name(), c.rank(), reference.shape(), c.reference("y"),
                reference.absSums(), Npy.read(y));
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("gradientCaseOnEachBackend")
    void convGradientsReproduceFlax(GoldenCase c, String backend) throws IOException {
        Path y = dir.resolve("y.npy");
        Path dx = dir.resolve("dx.npy");
        Path dk = dir.resolve("dk.npy");
        Path db = dir.resolve("db.npy");
        List<String> args = convArguments(c, backend, y);
        args.addAll(List.of("--cotangent", write("ct", ChannelsFirstData.activations(c.array("ct"), c.rank())),
                "--grad-input", dx.toString(), "--grad-kernel", dk.toString()));
        if (c.has("bias")) {
            args.addAll(List.of("--grad-bias", db.toString()));
        }

        CliRun.of(args).assertSuccess();

        NaiveConv.Result reference = Reference.forward(c);
        ChannelsFirstGoldenCases.assertActivationClose(c.name(), c.rank(), reference.shape(), c.reference("y"),
                reference.absSums(), Npy.read(y));
        ChannelsFirstGoldenCases.assertGradientsMatchFlax(c, new ConvGradients(Npy.read(dx), Npy.read(dk),
                c.has("bias") ? Npy.read(db) : null));
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("transposeCasesOnEachBackend")
    void convTransposeReproducesFlax(GoldenCase c, String backend) throws IOException {
        Path y = dir.resolve("y.npy");
        Tensor kernel = ChannelsFirstData.permute(c.array("kernel"),
                ChannelsFirstData.transposeKernelOrder(c.rank(), c.transposeKernel()));
        List<String> args = new ArrayList<>(List.of("conv-transpose", "--layout", "channels-first",
                "--backend", backend, "--input", write("x", ChannelsFirstData.activations(c.array("x"), c.rank())),
                "--kernel", write("kernel", kernel)));
        args.addAll(GoldenCli.biasIfAny(c, dir));
        args.addAll(GoldenCli.transposeSettings(c));
        args.addAll(List.of("--output", y.toString()));

        CliRun.of(args).assertSuccess();

        double[] bias = c.has("bias") ? Tolerance.toDouble(c.array("bias").data()) : null;
        NaiveConv.Result reference = ConvTransposeReference.of(c).forward(Tolerance.toDouble(c.array("x").data()),
                Tolerance.toDouble(c.array("kernel").data()), bias);
        ChannelsFirstGoldenCases.assertActivationClose(c.name(), c.rank(), reference.shape(), c.reference("y"),
                reference.absSums(), Npy.read(y));
    }

    @Test
    void anUnknownLayoutIsExitTwoNamingTheOptionTheValueAndTheChoices() throws IOException {
        Path y = dir.resolve("y.npy");
        String x = write("x", Tensor.zeros(1, 2, 5));
        String kernel = write("kernel", Tensor.zeros(3, 2, 2));
        for (String command : new String[] {"conv", "conv-transpose"}) {
            String line = CliRun.of(command, "--input", x, "--kernel", kernel, "--layout", "nchw", "--output",
                    y.toString()).assertFailure(Main.EXIT_INVALID, y);
            assertEquals("convcl: --layout: got 'nchw'; expected channels-last or channels-first", line);
        }
    }

    @Test
    void aChannelMismatchIsExitTwoNamingTheLayout() throws IOException {
        Path y = dir.resolve("y.npy");
        String line = CliRun.of("conv", "--layout", "Channels-First", "--input", write("x", Tensor.zeros(1, 5, 8)),
                "--kernel", write("kernel", Tensor.zeros(3, 2, 2)), "--output", y.toString())
                .assertFailure(Main.EXIT_INVALID, y);
        assertTrue(line.startsWith("convcl: input: shape [1, 5, 8] in channels-first layout has 5 channels at dim 1 "
                + "but the kernel (Cout, Cin/groups, *k) [3, 2, 2] expects 2"), line);
    }

    /** {@code conv} with the case's input, kernel and bias in channels-first layout, its settings, {@code --output}. */
    private List<String> convArguments(GoldenCase c, String backend, Path y) throws IOException {
        Tensor kernel = ChannelsFirstData.permute(c.array("kernel"), ChannelsFirstData.convKernelOrder(c.rank()));
        List<String> args = new ArrayList<>(List.of("conv", "--layout", "channels-first", "--backend", backend,
                "--input", write("x", ChannelsFirstData.activations(c.array("x"), c.rank())),
                "--kernel", write("kernel", kernel)));
        args.addAll(GoldenCli.biasIfAny(c, dir));
        args.addAll(GoldenCli.settings(c));
        args.addAll(List.of("--output", y.toString()));
        return args;
    }

    private String write(String name, Tensor tensor) throws IOException {
        Path file = dir.resolve(name + ".npy");
        Npy.write(file, tensor);
        return file.toString();
    }
}
