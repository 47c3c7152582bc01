package org.convcl.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.convcl.io.Npy;
import org.convcl.testing.NpyBytes;
import org.convcl.testing.RandomTensors;
import org.convcl.testing.ReadOnlyDirectory;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The CLI's failure contract: exit 2 for an invalid command line, configuration, file path or file content;
 * always one line on stderr, nothing on stdout, no output file.
 */
class CliErrorTest {

    @TempDir
    Path dir;

    private Path x;
    private Path kernel;
    private Path bias;
    private Path output;

    @BeforeEach
    void validInputs() throws IOException {
        SplittableRandom random = new SplittableRandom(7);
        x = dir.resolve("x.npy");
        kernel = dir.resolve("k.npy");
        bias = dir.resolve("b.npy");
        output = dir.resolve("y.npy");
        Npy.write(x, RandomTensors.uniform(random, 2, 6, 6, 2));
        Npy.write(kernel, RandomTensors.uniform(random, 3, 3, 2, 4));
        Npy.write(bias, RandomTensors.uniform(random, 4));
    }

    /** {@code conv --input x --kernel k [extra...] --output y}. */
    private CliRun conv(String... extra) {
        List<String> args = new ArrayList<>(List.of("conv", "--input", x.toString(), "--kernel", kernel.toString()));
        args.addAll(Arrays.asList(extra));
        args.add("--output");
        args.add(output.toString());
        return CliRun.of(args);
    }

    @Test
    void validCallSucceedsSoTheFailuresBelowAreCausedByWhatTheyChange() {
        conv("--bias", bias.toString()).assertSuccess();
        assertTrue(Files.exists(output));
    }

    @ParameterizedTest
    @ValueSource(strings = {"1:x", "1:2:3", "SAMEISH", "1,,2", "", "99999999999"})
    void badPaddingText(String padding) {
        String line = conv("--padding", padding).assertFailure(Main.EXIT_INVALID, output);
        assertTrue(line.contains("padding"), line);
    }

    @Test
    void stridesOfTheWrongLength() {
        String line = conv("--strides", "1,2,3").assertFailure(Main.EXIT_INVALID, output);
        assertTrue(line.contains("strides") && line.contains("[1, 2, 3]"), line);
    }

    @Test
    void explicitPaddingOfTheWrongLength() {
        String line = conv("--padding", "1:1,2:2,3:3").assertFailure(Main.EXIT_INVALID, output);
        assertTrue(line.contains("padding") && line.contains("1:1,2:2,3:3"), line);
    }

    @ParameterizedTest
    @ValueSource(strings = {"--strides", "--input-dilation", "--kernel-dilation"})
    void perDimSettingsBelowOneOrUnreadable(String option) {
        String zero = conv(option, "0").assertFailure(Main.EXIT_INVALID, output);
        assertTrue(zero.contains("[0]"), zero);
        String negative = conv(option, "-1").assertFailure(Main.EXIT_INVALID, output);
        assertTrue(negative.contains("[-1]"), negative);
        String text = conv(option, "2,x").assertFailure(Main.EXIT_INVALID, output);
        assertTrue(text.contains(option) && text.contains("'x'"), text);
    }

    @Test
    void groupsZeroOrNotAnInt() {
        String zero = conv("--groups", "0").assertFailure(Main.EXIT_INVALID, output);
        assertTrue(zero.contains("groups") && zero.contains("0"), zero);
        String text = conv("--groups", "two").assertFailure(Main.EXIT_INVALID, output);
        assertTrue(text.contains("--groups") && text.contains("two"), text);
    }

    @Test
    void groupsNotDividingTheChannels() {
        String line = conv("--groups", "3").assertFailure(Main.EXIT_INVALID, output);
        assertTrue(line.contains("groups") && line.contains("3"), line);
    }

    @ParameterizedTest
    @ValueSource(strings = {"SAME", "same_lower", "VALID", "circular", "Reflect"})
    void stringPaddingWithInputDilation(String padding) {
        String line = conv("--padding", padding, "--input-dilation", "2").assertFailure(Main.EXIT_INVALID, output);
        assertTrue(line.toUpperCase().contains(padding.toUpperCase()) && line.contains("inputDilation"), line);
    }

    @Test
    void causalOnTwoSpatialDims() {
        String line = conv("--padding", "causal").assertFailure(Main.EXIT_INVALID, output);
        assertTrue(line.contains("CAUSAL") && line.contains("rank 2"), line);
    }

    @Test
    void missingRequiredOptions() {
        String line = CliRun.of("conv", "--input", x.toString(), "--output", output.toString())
                .assertFailure(Main.EXIT_INVALID, output);
        assertTrue(line.contains("--kernel"), line);
        CliRun.of("conv", "--input", x.toString(), "--kernel", kernel.toString())
                .assertFailure(Main.EXIT_INVALID, null);
    }

    @Test
    void unknownOptionAndUnknownCommand() {
        String option = conv("--stride", "2").assertFailure(Main.EXIT_INVALID, output);
        assertTrue(option.contains("--stride"), option);
        String command = CliRun.of("convolve").assertFailure(Main.EXIT_INVALID, null);
        assertTrue(command.contains("convolve"), command);
        CliRun.of().assertFailure(Main.EXIT_INVALID, null);
    }

    /** A slip of the keyboard gets the command or option it was meant to be, on the one line of the error. */
    @Test
    void mistypedCommandsAndOptionsGetADidYouMean() {
        assertEquals("convcl: Unmatched argument at index 0: 'cnov'; did you mean conv? (see convcl --help)",
                CliRun.of("cnov").assertFailure(Main.EXIT_INVALID, null));
        String transpose = CliRun.of("conv-tarnspose").assertFailure(Main.EXIT_INVALID, null);
        assertTrue(transpose.contains("; did you mean conv-transpose? "), transpose);
        String option = conv("--stride", "2").assertFailure(Main.EXIT_INVALID, output);
        assertTrue(option.contains("'--stride'") && option.contains("; did you mean --strides? "), option);
        String unlike = CliRun.of("xyzzy").assertFailure(Main.EXIT_INVALID, null);
        assertEquals("convcl: Unmatched argument at index 0: 'xyzzy' (see convcl --help)", unlike,
                "nothing close: no suggestion");
    }

    @Test
    void unknownBackend() {
        String line = conv("--backend", "gpu").assertFailure(Main.EXIT_INVALID, output);
        assertTrue(line.contains("gpu"), line);
    }

    @Test
    void openclEitherWorksOrExitsTwoSayingWhy() throws IOException {
        CliRun run = conv("--backend", "OpenCL");
        if (run.exitCode() == Main.EXIT_OK) {
            // Once an OpenCL device is there, the answer must be the Java path's.
            Path cpuOutput = dir.resolve("cpu.npy");
            CliRun.of("conv", "--input", x.toString(), "--kernel", kernel.toString(), "--backend", "cpu",
                    "--output", cpuOutput.toString()).assertSuccess();
            float[] viaOpencl = Npy.read(output).data();
            float[] viaCpu = Npy.read(cpuOutput).data();
            for (int i = 0; i < viaCpu.length; i++) {
                assertEquals(viaCpu[i], viaOpencl[i], 1e-4, "element " + i);
            }
        } else {
            String line = run.assertFailure(Main.EXIT_INVALID, output);
            assertTrue(line.contains("opencl"), line);
        }
    }

    @Test
    void biasAndMaskOfTheWrongShape() throws IOException {
        Path wrong = dir.resolve("wrong.npy");
        Npy.write(wrong, RandomTensors.uniform(new SplittableRandom(1), 5));
        String biasLine = conv("--bias", wrong.toString()).assertFailure(Main.EXIT_INVALID, output);
        assertTrue(biasLine.contains("bias") && biasLine.contains("[5]"), biasLine);
        String maskLine = conv("--mask", wrong.toString()).assertFailure(Main.EXIT_INVALID, output);
        assertTrue(maskLine.contains("mask") && maskLine.contains("[5]"), maskLine);
    }

    @Test
    void inputChannelsNotMatchingTheKernel() throws IOException {
        Npy.write(x, RandomTensors.uniform(new SplittableRandom(2), 6, 6, 3));
        String line = conv().assertFailure(Main.EXIT_INVALID, output);
        assertTrue(line.contains("kernel") && line.contains("3"), line);
        // Channels first, as (N, C, H, W) from another framework: the message says which layout is read.
        Npy.write(x, RandomTensors.uniform(new SplittableRandom(2), 1, 2, 6, 6));
        String channelsFirst = conv().assertFailure(Main.EXIT_INVALID, output);
        assertTrue(channelsFirst.endsWith("the input has 6 channels in 1 group(s); the kernel's second-to-last dim "
                + "must be Cin/groups = 6; inputs are channels-last (*batch, *spatial, C): C is the last dim of the "
                + "input's shape [1, 2, 6, 6]"), channelsFirst);
    }

    /** A path is the user's input as much as an option is: a missing input or a directory is exit 2. */
    @Test
    void missingInputsAndDirectoriesAsInputsExitTwoNamingOptionPathAndRule() {
        Path missing = dir.resolve("missing.npy");
        String input = CliRun.of("conv", "--input", missing.toString(), "--kernel", kernel.toString(),
                "--output", output.toString()).assertFailure(Main.EXIT_INVALID, output);
        assertEquals("convcl: --input " + missing + ": no such file; an input must be an existing file", input);
        String kernelLine = CliRun.of("conv", "--input", x.toString(), "--kernel", missing.toString(),
                "--output", output.toString()).assertFailure(Main.EXIT_INVALID, output);
        assertTrue(kernelLine.startsWith("convcl: --kernel " + missing + ": no such file"), kernelLine);
        String biasLine = conv("--bias", missing.toString()).assertFailure(Main.EXIT_INVALID, output);
        assertTrue(biasLine.startsWith("convcl: --bias " + missing + ": no such file"), biasLine);
        String maskLine = conv("--mask", missing.toString()).assertFailure(Main.EXIT_INVALID, output);
        assertTrue(maskLine.startsWith("convcl: --mask " + missing + ": no such file"), maskLine);
        String directory = CliRun.of("conv", "--input", dir.toString(), "--kernel", kernel.toString(),
                "--output", output.toString()).assertFailure(Main.EXIT_INVALID, output);
        assertEquals("convcl: --input " + dir + ": it is a directory; an input must be a file", directory);
    }

    @Test
    void outputInAMissingDirectoryExitsTwoAndCreatesNothing() {
        Path inMissingDirectory = dir.resolve("no-such-dir").resolve("y.npy");
        String line = CliRun.of("conv", "--input", x.toString(), "--kernel", kernel.toString(), "--output",
                inMissingDirectory.toString()).assertFailure(Main.EXIT_INVALID, null);
        assertEquals("convcl: --output " + inMissingDirectory + ": directory " + inMissingDirectory.getParent()
                + " does not exist; an output's directory must exist (convcl creates no directories)", line);
        assertTrue(Files.notExists(inMissingDirectory.getParent()));
        // A relative path: the directory is named as it was written.
        Path relative = Path.of("no-such-dir-" + System.nanoTime(), "y.npy");
        String relativeLine = CliRun.of("conv", "--input", x.toString(), "--kernel", kernel.toString(), "--output",
                relative.toString()).assertFailure(Main.EXIT_INVALID, null);
        assertTrue(relativeLine.startsWith("convcl: --output " + relative + ": directory " + relative.getParent()
                + " does not exist; "), relativeLine);
        assertTrue(Files.notExists(relative.getParent()));
    }

    @Test
    void outputThatIsADirectoryExitsTwoAndLeavesItAsItWas() throws IOException {
        Path directory = Files.createDirectory(dir.resolve("out"));
        String line = CliRun.of("conv", "--input", x.toString(), "--kernel", kernel.toString(), "--output",
                directory.toString()).assertFailure(Main.EXIT_INVALID, null);
        assertEquals("convcl: --output " + directory + ": it is a directory; an output must be a regular file or a new path", line);
        try (var entries = Files.list(directory)) {
            assertEquals(0, entries.count(), "nothing written into the directory");
        }
    }

    @Test
    void outputInADirectoryThatCannotBeWrittenExitsTwo() throws IOException {
        Path readOnly = ReadOnlyDirectory.under(dir);
        Path target = readOnly.resolve("y.npy");
        String line = CliRun.of("conv", "--input", x.toString(), "--kernel", kernel.toString(), "--output",
                target.toString()).assertFailure(Main.EXIT_INVALID, null);
        assertEquals("convcl: --output " + target + ": directory " + readOnly + " is not writable; an output's "
                + "directory must be writable (the output is written there, then moved into place)", line);
        assertTrue(Files.notExists(target));
    }

    @Test
    void anOutputThatExistedIsLeftAsItWasOnFailure() throws IOException {
        byte[] before = {1, 2, 3};
        Files.write(output, before);
        CliRun run = conv("--groups", "3");
        assertEquals(Main.EXIT_INVALID, run.exitCode());
        assertArrayEquals(before, Files.readAllBytes(output));
    }

    @Test
    void hostileNpyContentExitsTwo() throws IOException {
        Path bad = dir.resolve("bad.npy");
        byte[] good = Files.readAllBytes(x);
        List<byte[]> hostile = List.of(
                Arrays.copyOf(good, good.length - 3),                                   // truncated data
                Arrays.copyOf(good, 40),                                                // truncated header
                new byte[0],                                                            // empty
                "not a numpy file at all".getBytes(),                                   // wrong magic
                NpyBytes.file(1, NpyBytes.dict("<f4", "(99999999999,)"), new byte[16]), // absurd shape
                NpyBytes.file(1, NpyBytes.dict("<f4", "(2000000000, 2)"), new byte[16]),
                NpyBytes.file(1, NpyBytes.dict("<f4", "(-1, 4)"), new byte[16]),        // negative dim
                NpyBytes.file(1, NpyBytes.dict("<i4", "(4,)"), new byte[16]),           // int dtype
                NpyBytes.file(1, NpyBytes.dict("<f4", true, "(2, 2)"), new byte[16]));  // Fortran order
        for (byte[] content : hostile) {
            Files.write(bad, content);
            String asInput = CliRun.of("conv", "--input", bad.toString(), "--kernel", kernel.toString(),
                    "--output", output.toString()).assertFailure(Main.EXIT_INVALID, output);
            assertTrue(asInput.contains("--input") && asInput.contains("bad.npy"), asInput);
            String asBias = conv("--bias", bad.toString()).assertFailure(Main.EXIT_INVALID, output);
            assertTrue(asBias.contains("--bias"), asBias);
        }
    }

    @Test
    void bigEndianAndFloat64InputsAreAccepted() throws IOException {
        conv("--bias", bias.toString()).assertSuccess();
        byte[] expected = Files.readAllBytes(output);
        float[] biasValues = Npy.read(bias).data();
        double[] asDoubles = new double[biasValues.length];
        for (int i = 0; i < asDoubles.length; i++) {
            asDoubles[i] = biasValues[i];
        }
        Files.write(bias, NpyBytes.file(1, NpyBytes.dict(">f8", "(4,)"), NpyBytes.doubles(ByteOrder.BIG_ENDIAN,
                asDoubles)));
        conv("--bias", bias.toString()).assertSuccess();
        assertArrayEquals(expected, Files.readAllBytes(output));
    }
}
