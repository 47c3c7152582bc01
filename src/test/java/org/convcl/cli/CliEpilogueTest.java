package org.convcl.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.convcl.Activation;
import org.convcl.ConvSpec;
import org.convcl.ConvTransposeSpec;
import org.convcl.Layout;
import org.convcl.Padding;
import org.convcl.Tensor;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.io.Npy;
import org.convcl.nn.Conv;
import org.convcl.nn.ConvGradients;
import org.convcl.nn.ConvTranspose;
import org.convcl.testing.RandomTensors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The fused epilogue on {@code convcl conv} and {@code conv-transpose}, in-process: Y and every gradient are the
 * library layer's on the same files, bit for bit (the layer's own results are checked against float64 references
 * in the nn tests); every refusal exits 2 with one line naming the option and writes nothing.
 */
class CliEpilogueTest {
    private static final int COUT = 4;

    @TempDir
    Path dir;

    private Path x;
    private Path k;
    private Path b;
    private Path s;
    private Path t;
    private Path r;
    private Path ct;
    private Path y;

    @BeforeEach
    void paths() {
        x = dir.resolve("x.npy");
        k = dir.resolve("k.npy");
        b = dir.resolve("b.npy");
        s = dir.resolve("s.npy");
        t = dir.resolve("t.npy");
        r = dir.resolve("r.npy");
        ct = dir.resolve("ct.npy");
        y = dir.resolve("y.npy");
    }

    static Stream<Arguments> activations() {
        return Stream.of(Arguments.of("relu", Activation.relu(), Layout.CHANNELS_LAST),
                Arguments.of("leaky_relu:0.2", Activation.leakyRelu(0.2f), Layout.CHANNELS_FIRST),
                Arguments.of("GELU_TANH", Activation.gelu(true), Layout.CHANNELS_LAST),
                Arguments.of("elu", Activation.elu(), Layout.CHANNELS_FIRST),
                Arguments.of("hard_swish", Activation.hardSwish(), Layout.CHANNELS_LAST));
    }

    @ParameterizedTest
    @MethodSource("activations")
    void convForwardAndGradientsAreTheLayers(String name, Activation activation, Layout layout) throws Exception {
        boolean first = layout == Layout.CHANNELS_FIRST;
        SplittableRandom random = new SplittableRandom(name.hashCode());
        Tensor input = RandomTensors.uniform(random, first ? new int[] {2, 3, 6, 5} : new int[] {2, 6, 5, 3});
        Tensor kernel = RandomTensors.uniform(random, first ? new int[] {COUT, 3, 3, 2} : new int[] {3, 2, 3, COUT});
        Tensor bias = RandomTensors.uniform(random, COUT);
        Tensor scale = RandomTensors.uniform(random, COUT);
        Tensor shift = RandomTensors.uniform(random, COUT);
        ConvSpec spec = ConvSpec.builder().strides(2, 1).padding(Padding.SAME).build();
        Conv conv = Conv.builder(kernel).bias(bias).scale(scale).shift(shift).activation(activation).spec(spec)
                .layout(layout).backend(CpuBackend.instance()).build();
        int[] outputShape = conv.outputShape(input.shape());
        Tensor residual = RandomTensors.uniform(random, outputShape);
        Tensor cotangent = RandomTensors.uniform(random, outputShape);
        write(input, kernel, bias, scale, shift, residual, cotangent);

        List<String> args = new ArrayList<>(List.of("conv", "--input", x.toString(), "--kernel", k.toString(),
                "--bias", b.toString(), "--scale", s.toString(), "--shift", t.toString(), "--residual", r.toString(),
                "--activation", name, "--strides", "2,1", "--layout", first ? "channels-first" : "channels-last",
                "--backend", "cpu", "--output", y.toString()));
        Path[] grads = gradientArgs(args);
        CliRun.of(args).assertSuccess();

        assertSame("Y", conv.apply(input, residual), Npy.read(y));
        ConvGradients g = conv.backward(input, residual, cotangent);
        assertSame("dX", g.dx(), Npy.read(grads[0]));
        assertSame("dK", g.dkernel(), Npy.read(grads[1]));
        assertSame("dB", g.dbias(), Npy.read(grads[2]));
        assertSame("dS", g.dscale(), Npy.read(grads[3]));
        assertSame("dT", g.dshift(), Npy.read(grads[4]));
        assertSame("dR", g.dresidual(), Npy.read(grads[5]));
    }

    @Test
    void convTransposeTakesTheSameOptions() throws Exception {
        SplittableRandom random = new SplittableRandom(11);
        Tensor input = RandomTensors.uniform(random, 2, 5, 3);
        Tensor kernel = RandomTensors.uniform(random, 3, 3, COUT);
        Tensor shift = RandomTensors.uniform(random, COUT);
        ConvTransposeSpec spec = ConvTransposeSpec.builder().strides(2).padding(Padding.CIRCULAR).build();
        ConvTranspose layer = ConvTranspose.builder(kernel).shift(shift).activation(Activation.silu()).spec(spec)
                .backend(CpuBackend.instance()).build();
        Tensor residual = RandomTensors.uniform(random, layer.outputShape(input.shape()));
        Npy.write(x, input);
        Npy.write(k, kernel);
        Npy.write(t, shift);
        Npy.write(r, residual);
        CliRun.of("conv-transpose", "--input", x.toString(), "--kernel", k.toString(), "--shift", t.toString(),
                "--residual", r.toString(), "--activation", "silu", "--strides", "2", "--padding", "circular",
                "--backend", "cpu", "--output", y.toString()).assertSuccess();
        assertSame("Y", layer.apply(input, residual), Npy.read(y));
    }

    /** Each refusal: exit 2, one line naming the option and the value, nothing written. */
    static Stream<Arguments> refusals() {
        return Stream.of(
                Arguments.of(List.of("--activation", "swish"), List.of("--activation", "swish", "relu")),
                Arguments.of(List.of("--activation", "relu:2"), List.of("--activation", "relu:2", "takes none")),
                Arguments.of(List.of("--activation", "elu:x"), List.of("--activation", "x")),
                Arguments.of(List.of("--activation", "leaky_relu:NaN"), List.of("--activation", "NaN", "finite")),
                Arguments.of(List.of("--scale", "WRONG_SCALE"), List.of("scale", "[3]", "4")),
                Arguments.of(List.of("--residual", "WRONG_RESIDUAL"), List.of("--residual", "[1, 5, 5, 4]",
                        "[1, 6, 5, 4]")),
                Arguments.of(List.of("--grad-scale", "OUT"), List.of("--grad-scale", "--cotangent")),
                Arguments.of(List.of("--cotangent", "CT", "--grad-input", "OUT", "--grad-kernel", "OUT2",
                        "--grad-shift", "OUT3"), List.of("--grad-shift", "without --shift")),
                Arguments.of(List.of("--cotangent", "CT", "--grad-input", "OUT", "--grad-kernel", "OUT2",
                        "--grad-residual", "OUT3"), List.of("--grad-residual", "without --residual")));
    }

    @ParameterizedTest
    @MethodSource("refusals")
    void refusalsExitTwoWithOneLineAndWriteNothing(List<String> options, List<String> named) throws Exception {
        SplittableRandom random = new SplittableRandom(3);
        Npy.write(x, RandomTensors.uniform(random, 1, 6, 5, 3));
        Npy.write(k, RandomTensors.uniform(random, 3, 3, 3, COUT));
        Path wrongScale = dir.resolve("wrong-scale.npy");
        Npy.write(wrongScale, RandomTensors.uniform(random, 3));
        Path wrongResidual = dir.resolve("wrong-residual.npy");
        Npy.write(wrongResidual, RandomTensors.uniform(random, 1, 5, 5, COUT));
        Npy.write(ct, RandomTensors.uniform(random, 1, 6, 5, COUT));
        Path[] outs = {dir.resolve("o1.npy"), dir.resolve("o2.npy"), dir.resolve("o3.npy")};
        List<String> args = new ArrayList<>(List.of("conv", "--input", x.toString(), "--kernel", k.toString(),
                "--output", y.toString()));
        for (String option : options) {
            args.add(switch (option) {
                case "WRONG_SCALE" -> wrongScale.toString();
                case "WRONG_RESIDUAL" -> wrongResidual.toString();
                case "CT" -> ct.toString();
                case "OUT" -> outs[0].toString();
                case "OUT2" -> outs[1].toString();
                case "OUT3" -> outs[2].toString();
                default -> option;
            });
        }
        String line = CliRun.of(args).assertFailure(Main.EXIT_INVALID, y);
        for (String word : named) {
            assertTrue(line.contains(word), "'" + word + "' in " + line);
        }
        CliRun.assertNoneWritten(outs);
    }

    @Test
    void helpAndTheCliPageListTheOptions() throws Exception {
        String page = Files.readString(Path.of("docs", "cli.md"));
        for (String command : new String[] {"conv", "conv-transpose"}) {
            CliRun help = CliRun.of(command, "--help");
            help.assertSuccess();
            assertEquals("", help.stderr());
            // The convolutions' part of the page: conv, conv-transpose, the epilogue and the gradient options.
            int start = page.indexOf("\n## conv\n");
            int end = page.indexOf("\n## pool\n");
            assertTrue(start >= 0 && end > start, "docs/cli.md has conv ... pool sections");
            String section = page.substring(start, end);
            CommandSpec spec = new CommandLine(new Main()).getSubcommands().get(command).getCommandSpec();
            for (OptionSpec option : spec.options()) {
                String name = option.longestName();
                if (name.startsWith("--scale") || name.startsWith("--shift") || name.startsWith("--residual")
                        || name.startsWith("--activation") || name.startsWith("--grad-s") || name.equals("--grad-residual")) {
                    assertTrue(help.stdout().contains(name), name + " in " + command + " --help");
                    assertTrue(section.contains("`" + name), name + " in docs/cli.md's convolution sections");
                }
            }
        }
    }

    private void write(Tensor input, Tensor kernel, Tensor bias, Tensor scale, Tensor shift, Tensor residual,
            Tensor cotangent) throws Exception {
        Npy.write(x, input);
        Npy.write(k, kernel);
        Npy.write(b, bias);
        Npy.write(s, scale);
        Npy.write(t, shift);
        Npy.write(r, residual);
        Npy.write(ct, cotangent);
    }

    /** Adds the backward options to {@code args}; returns dX, dK, dB, dS, dT, dR's paths. */
    private Path[] gradientArgs(List<String> args) {
        String[] options = {"--grad-input", "--grad-kernel", "--grad-bias", "--grad-scale", "--grad-shift",
            "--grad-residual"};
        Path[] paths = new Path[options.length];
        args.add("--cotangent");
        args.add(ct.toString());
        for (int i = 0; i < options.length; i++) {
            paths[i] = dir.resolve("grad" + i + ".npy");
            args.add(options[i]);
            args.add(paths[i].toString());
        }
        return paths;
    }

    private static void assertSame(String what, Tensor expected, Tensor written) {
        assertArrayEquals(expected.shape(), written.shape(), what + " shape");
        assertArrayEquals(expected.data(), written.data(), what + " values, bit for bit");
    }
}
