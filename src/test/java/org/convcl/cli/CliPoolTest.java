package org.convcl.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.convcl.Layout;
import org.convcl.Padding;
import org.convcl.PoolOp;
import org.convcl.PoolSpec;
import org.convcl.Tensor;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.io.Npy;
import org.convcl.nn.Pool;
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
 * {@code convcl pool}, in-process: Y and dX are the library's {@link Pool} results on the same files, bit for bit,
 * for every op and each padding form and layout; every refusal exits 2 with one line and writes nothing.
 */
class CliPoolTest {

    @TempDir
    Path dir;

    private Path x;
    private Path y;
    private Path dx;

    @BeforeEach
    void writeInput() throws Exception {
        x = dir.resolve("x.npy");
        y = dir.resolve("y.npy");
        dx = dir.resolve("dx.npy");
        Npy.write(x, RandomTensors.uniform(new SplittableRandom(5), 2, 6, 7, 3));
    }

    /**
     * One setting per row: the op, the CLI's option values, and the same spec and layout for the library. The
     * input's shape follows the layout and the window's rank.
     */
    static Stream<Arguments> settings() {
        return Stream.of(
                Arguments.of(PoolOp.MAX, List.of("--window", "2,2", "--strides", "2,2"),
                        PoolSpec.builder().window(2, 2).strides(2, 2).build(), Layout.CHANNELS_LAST),
                Arguments.of(PoolOp.AVG, List.of("--window", "3,3", "--padding", "same", "--count-include-pad",
                        "false"), PoolSpec.builder().window(3, 3).padding(Padding.SAME).countIncludePad(false).build(),
                        Layout.CHANNELS_LAST),
                Arguments.of(PoolOp.AVG, List.of("--window", "3,2", "--strides", "2", "--padding", "SAME"),
                        PoolSpec.builder().window(3, 2).strides(2).padding(Padding.SAME).build(),
                        Layout.CHANNELS_LAST),
                Arguments.of(PoolOp.MIN, List.of("--window", "2,3", "--padding", "1:0,2:1", "--layout",
                        "channels-first"), PoolSpec.builder().window(2, 3)
                        .padding(Padding.pairs(new int[] {1, 0}, new int[] {2, 1})).build(), Layout.CHANNELS_FIRST),
                Arguments.of(PoolOp.MAX, List.of("--window", "3", "--strides", "2", "--padding", "1"),
                        PoolSpec.builder().window(3).strides(2).padding(Padding.of(1)).build(),
                        Layout.CHANNELS_LAST));
    }

    @ParameterizedTest
    @MethodSource("settings")
    void forwardAndGradientAreThoseOfTheLibrary(PoolOp op, List<String> options, PoolSpec spec, Layout layout)
            throws Exception {
        int[] shape = spec.rank() == 1 ? new int[] {2, 9, 3}
                : layout == Layout.CHANNELS_FIRST ? new int[] {2, 3, 6, 7} : new int[] {2, 6, 7, 3};
        SplittableRandom random = new SplittableRandom(7);
        Tensor input = RandomTensors.uniform(random, shape);
        Npy.write(x, input);
        Pool pool = Pool.builder(op, spec).layout(layout).backend(CpuBackend.instance()).build();
        Tensor cotangent = RandomTensors.uniform(random, pool.outputShape(shape));
        Path ct = dir.resolve("ct.npy");
        Npy.write(ct, cotangent);

        List<String> args = new ArrayList<>(List.of("pool", "--op", op.name().toLowerCase(Locale.ROOT),
                "--input", x.toString(), "--backend", "cpu", "--output", y.toString(), "--cotangent", ct.toString(),
                "--grad-input", dx.toString()));
        args.addAll(options);
        CliRun run = CliRun.of(args);
        run.assertSuccess();
        assertEquals("", run.stdout() + run.stderr(), "pool prints nothing");

        assertSameTensor("Y", pool.apply(input), Npy.read(y));
        assertSameTensor("dX", pool.backward(input, cotangent), Npy.read(dx));
    }

    @Test
    void withoutACotangentOnlyYIsWritten() throws Exception {
        Tensor input = Npy.read(x);
        CliRun.of("pool", "--op", "AVG", "--input", x.toString(), "--window", "2,2", "--backend", "cpu", "--output",
                y.toString())
                .assertSuccess();
        PoolSpec spec = PoolSpec.builder().window(2, 2).build();
        assertSameTensor("Y", Pool.builder(PoolOp.AVG, spec).backend(CpuBackend.instance()).build().apply(input),
                Npy.read(y));
        CliRun.assertNoneWritten(dx);
    }

    /** Each refusal: exit 2, one line naming the option (and the value where there is one), nothing written. */
    static Stream<Arguments> refusals() {
        return Stream.of(
                Arguments.of(List.of("--op", "median", "--window", "2,2"), List.of("--op", "median")),
                Arguments.of(List.of("--op", "max", "--window", "7,2"), List.of("window", "7")),
                Arguments.of(List.of("--op", "max", "--window", "0,2"), List.of("window", "0")),
                Arguments.of(List.of("--op", "max", "--window", "2,x"), List.of("--window", "x")),
                Arguments.of(List.of("--op", "max", "--window", "2,2", "--strides", "1,2,3"),
                        List.of("strides", "[1, 2, 3]")),
                Arguments.of(List.of("--op", "max", "--window", "2,2", "--padding", "CAUSAL"),
                        List.of("padding", "CAUSAL")),
                Arguments.of(List.of("--op", "max", "--window", "2,2", "--padding=-1"), List.of("padding", "-1")),
                Arguments.of(List.of("--op", "max", "--window", "2,2", "--padding", "1:2"),
                        List.of("padding", "1 entries")),
                Arguments.of(List.of("--op", "max", "--window", "2,2", "--padding", "a:b"), List.of("a:b")),
                Arguments.of(List.of("--op", "avg", "--window", "2,2", "--count-include-pad", "maybe"),
                        List.of("--count-include-pad", "maybe")),
                Arguments.of(List.of("--op", "max", "--window", "2,2", "--count-include-pad", "true"),
                        List.of("--count-include-pad", "--op max", "only to --op avg")),
                Arguments.of(List.of("--op", "min", "--window", "2,2", "--count-include-pad", "false"),
                        List.of("--count-include-pad", "--op min")),
                Arguments.of(List.of("--op", "max", "--window", "2,2", "--layout", "nhwc"), List.of("--layout", "nhwc")),
                Arguments.of(List.of("--op", "max", "--window", "2,2", "--backend", "gpu"), List.of("backend", "gpu")),
                Arguments.of(List.of("--op", "max", "--window", "2,2,2,2"), List.of("input", "rank")),
                Arguments.of(List.of("--op", "max"), List.of("--window")),
                Arguments.of(List.of("--window", "2,2"), List.of("--op")));
    }

    @ParameterizedTest
    @MethodSource("refusals")
    void refusalsExitTwoWithOneLineAndWriteNothing(List<String> options, List<String> named) {
        // No --backend cpu: every refusal comes before a backend is chosen.
        List<String> args = new ArrayList<>(List.of("pool", "--input", x.toString(), "--output", y.toString()));
        args.addAll(options);
        String line = CliRun.of(args).assertFailure(Main.EXIT_INVALID, y);
        for (String word : named) {
            assertTrue(line.contains(word), "'" + word + "' in " + line);
        }
    }

    @Test
    void aCotangentOfTheWrongShapeIsRefusedBeforeAnythingIsWritten() throws Exception {
        Path ct = dir.resolve("ct.npy");
        // The right shape is (2, 3, 3, 3).
        Npy.write(ct, RandomTensors.uniform(new SplittableRandom(2), 2, 3, 4, 3));
        String line = CliRun.of("pool", "--op", "max", "--input", x.toString(), "--window", "2,2", "--strides",
                "2", "--output", y.toString(), "--cotangent", ct.toString(), "--grad-input", dx.toString())
                .assertFailure(Main.EXIT_INVALID, y);
        assertTrue(line.contains("--cotangent") && line.contains("[2, 3, 4, 3]") && line.contains("[2, 3, 3, 3]"),
                line);
        CliRun.assertNoneWritten(dx);
    }

    @Test
    void gradientOptionsComeTogether() throws Exception {
        Path ct = dir.resolve("ct.npy");
        Npy.write(ct, RandomTensors.uniform(new SplittableRandom(2), 2, 5, 6, 3));
        String orphan = CliRun.of("pool", "--op", "max", "--input", x.toString(), "--window", "2,2", "--output",
                y.toString(), "--grad-input", dx.toString()).assertFailure(Main.EXIT_INVALID, y);
        assertTrue(orphan.contains("--grad-input") && orphan.contains("--cotangent"), orphan);
        String alone = CliRun.of("pool", "--op", "max", "--input", x.toString(), "--window", "2,2", "--output",
                y.toString(), "--cotangent", ct.toString()).assertFailure(Main.EXIT_INVALID, y);
        assertTrue(alone.contains("--cotangent") && alone.contains("--grad-input"), alone);
        CliRun.assertNoneWritten(dx);
    }

    @Test
    void anOutputOverTheInputIsRefused() {
        String line = CliRun.of("pool", "--op", "max", "--input", x.toString(), "--window", "2,2", "--output",
                x.toString()).assertFailure(Main.EXIT_INVALID, null);
        assertTrue(line.contains("--output"), line);
    }

    @Test
    void helpListsTheOptions() {
        CliRun help = CliRun.of("pool", "--help");
        help.assertSuccess();
        for (String option : new String[] {"--op", "--input", "--window", "--strides", "--padding",
            "--count-include-pad", "--layout", "--backend", "--output", "--cotangent", "--grad-input"}) {
            assertTrue(help.stdout().contains(option), option + " in " + help.stdout());
        }
        assertEquals("", help.stderr());
        assertTrue(CliRun.of("--help").stdout().contains("pool"), "the tool's help lists pool");
    }

    /** docs/cli.md's pool section names every option the command has, read from the command itself. */
    @Test
    void theCliPageListsEveryOption() throws Exception {
        String page = Files.readString(Path.of("docs", "cli.md"));
        int start = page.indexOf("\n## pool\n");
        assertTrue(start >= 0, "docs/cli.md has a pool section");
        int end = page.indexOf("\n## ", start + 1);
        String section = page.substring(start, end < 0 ? page.length() : end);
        CommandSpec pool = new CommandLine(new Main()).getSubcommands().get("pool").getCommandSpec();
        for (OptionSpec option : pool.options()) {
            if (!option.usageHelp() && !option.versionHelp()) {
                assertTrue(section.contains("`" + option.longestName() + "`"), option.longestName() + " in " + section);
            }
        }
    }

    private static void assertSameTensor(String what, Tensor expected, Tensor written) {
        assertArrayEquals(expected.shape(), written.shape(), what + " shape");
        assertArrayEquals(expected.data(), written.data(), what + " values, bit for bit");
    }

}
