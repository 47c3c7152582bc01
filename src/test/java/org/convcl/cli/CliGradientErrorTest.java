package org.convcl.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.convcl.io.Npy;
import org.convcl.testing.LayerFiles;
import org.convcl.testing.RandomTensors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The failure contract of the gradient options, on both commands that have them: a missing or orphaned
 * option, a bias gradient without a bias, a cotangent of the wrong shape or content, an output that cannot
 * be written. Each failure exits with its code and one line, and leaves none of the up to four outputs.
 */
class CliGradientErrorTest {

    @TempDir
    Path dir;

    private LayerFiles files;
    private Path y;
    private Path dx;
    private Path dk;
    private Path db;

    /** X (2, 6, 6, 2) and K (3, 3, 2, 4) suit both commands: K is (*k, Cin, Cout), and SAME keeps 6 x 6. */
    @BeforeEach
    void validInputs() throws IOException {
        files = LayerFiles.write(dir, 5);
        y = dir.resolve("y.npy");
        dx = dir.resolve("dx.npy");
        dk = dir.resolve("dk.npy");
        db = dir.resolve("db.npy");
    }

    /** {@code command --input x --kernel k [extra...] --output y}. */
    private CliRun run(String command, String... extra) {
        List<String> args = new ArrayList<>(List.of(command, "--input", files.x().toString(),
                "--kernel", files.kernel().toString()));
        args.addAll(Arrays.asList(extra));
        args.addAll(List.of("--output", y.toString()));
        return CliRun.of(args);
    }

    /** Every option of a full backward call (bias included), with {@code without} left out. */
    private String[] fullCallWithout(String... without) {
        List<String> args = new ArrayList<>(List.of("--bias", files.bias().toString(),
                "--cotangent", files.cotangent().toString(),
                "--grad-input", dx.toString(), "--grad-kernel", dk.toString(), "--grad-bias", db.toString()));
        for (String option : without) {
            int at = args.indexOf(option);
            args.subList(at, at + 2).clear();
        }
        return args.toArray(String[]::new);
    }

    private String assertFailsWritingNothing(CliRun run, int code) {
        String line = run.assertFailure(code, y);
        CliRun.assertNoneWritten(y, dx, dk, db);
        return line;
    }

    @ParameterizedTest
    @ValueSource(strings = {"conv", "conv-transpose"})
    void fullCallWritesAllFourSoTheFailuresBelowAreCausedByWhatTheyChange(String command) throws IOException {
        run(command, fullCallWithout()).assertSuccess();
        assertArrayEquals(Npy.read(files.cotangent()).shape(), Npy.read(y).shape());
        assertArrayEquals(Npy.read(files.x()).shape(), Npy.read(dx).shape());
        assertArrayEquals(Npy.read(files.kernel()).shape(), Npy.read(dk).shape());
        assertArrayEquals(Npy.read(files.bias()).shape(), Npy.read(db).shape());
    }

    @ParameterizedTest
    @ValueSource(strings = {"conv", "conv-transpose"})
    void biasGradientIsWrittenOnlyWhenAskedFor(String command) {
        run(command, fullCallWithout("--grad-bias")).assertSuccess();
        assertTrue(Files.exists(y) && Files.exists(dx) && Files.exists(dk));
        assertFalse(Files.exists(db));
    }

    @ParameterizedTest
    @ValueSource(strings = {"conv", "conv-transpose"})
    void cotangentNeedsBothGradInputAndGradKernel(String command) {
        for (String missing : new String[] {"--grad-input", "--grad-kernel"}) {
            String line = assertFailsWritingNothing(run(command, fullCallWithout(missing)), Main.EXIT_INVALID);
            assertTrue(line.contains("--cotangent") && line.contains(missing), line);
        }
        String both = assertFailsWritingNothing(run(command, fullCallWithout("--grad-input", "--grad-kernel")),
                Main.EXIT_INVALID);
        assertTrue(both.contains("--grad-input") && both.contains("--grad-kernel"), both);
    }

    @ParameterizedTest
    @ValueSource(strings = {"conv", "conv-transpose"})
    void everyGradientOutputNeedsTheCotangent(String command) {
        for (String[] orphan : new String[][] {{"--grad-input", dx.toString()}, {"--grad-kernel", dk.toString()},
            {"--bias", files.bias().toString(), "--grad-bias", db.toString()}}) {
            String line = assertFailsWritingNothing(run(command, orphan), Main.EXIT_INVALID);
            assertTrue(line.contains(orphan[orphan.length - 2]) && line.contains("without --cotangent"), line);
        }
        String all = assertFailsWritingNothing(run(command, fullCallWithout("--cotangent")), Main.EXIT_INVALID);
        assertTrue(all.contains("--grad-input and --grad-kernel and --grad-bias"), all);
    }

    @ParameterizedTest
    @ValueSource(strings = {"conv", "conv-transpose"})
    void biasGradientNeedsABias(String command) {
        String line = assertFailsWritingNothing(run(command, fullCallWithout("--bias")), Main.EXIT_INVALID);
        assertTrue(line.contains("--grad-bias") && line.contains("--bias") && line.contains("db.npy"), line);
    }

    @ParameterizedTest
    @ValueSource(strings = {"conv", "conv-transpose"})
    void cotangentOfAnotherShapeIsRefusedNamingBothShapes(String command) throws IOException {
        Npy.write(files.cotangent(), RandomTensors.uniform(new SplittableRandom(6), 2, 6, 6, 5));
        String line = assertFailsWritingNothing(run(command, fullCallWithout()), Main.EXIT_INVALID);
        assertTrue(line.contains("--cotangent") && line.contains("[2, 6, 6, 5]") && line.contains("[2, 6, 6, 4]"),
                line);
    }

    @ParameterizedTest
    @ValueSource(strings = {"conv", "conv-transpose"})
    void missingCotangentAndBadContentExitTwo(String command) throws IOException {
        Files.delete(files.cotangent());
        String missing = assertFailsWritingNothing(run(command, fullCallWithout()), Main.EXIT_INVALID);
        assertTrue(missing.startsWith("convcl: --cotangent " + files.cotangent() + ": no such file"), missing);
        Files.writeString(files.cotangent(), "not a numpy file");
        String bad = assertFailsWritingNothing(run(command, fullCallWithout()), Main.EXIT_INVALID);
        assertTrue(bad.contains("--cotangent") && bad.contains("ct.npy"), bad);
    }

    @ParameterizedTest
    @ValueSource(strings = {"conv", "conv-transpose"})
    void aRefusedConfigurationWritesNoGradients(String command) {
        List<String> args = new ArrayList<>(List.of(fullCallWithout()));
        args.addAll(List.of("--strides", "0"));
        String line = assertFailsWritingNothing(run(command, args.toArray(String[]::new)), Main.EXIT_INVALID);
        assertTrue(line.contains("strides") && line.contains("[0]"), line);
    }

    /** A gradient output in a missing directory: exit 2 before any work, and Y and the others not written. */
    @ParameterizedTest
    @ValueSource(strings = {"conv", "conv-transpose"})
    void unwritableGradientOutputExitsTwoLeavingNoOtherOutput(String command) {
        Path missingDir = dir.resolve("no-such-dir");
        for (String option : new String[] {"--grad-input", "--grad-kernel", "--grad-bias"}) {
            Path unwritable = missingDir.resolve(option.substring(2) + ".npy");
            List<String> args = new ArrayList<>(List.of(fullCallWithout(option)));
            args.addAll(List.of(option, unwritable.toString()));
            String line = assertFailsWritingNothing(run(command, args.toArray(String[]::new)), Main.EXIT_INVALID);
            assertTrue(line.contains(option) && line.contains("does not exist"), line);
        }
        assertFalse(Files.exists(missingDir));
        List<String> args = new ArrayList<>(List.of(fullCallWithout("--grad-kernel")));
        args.addAll(List.of("--grad-kernel", dir.toString()));
        String line = assertFailsWritingNothing(run(command, args.toArray(String[]::new)), Main.EXIT_INVALID);
        assertTrue(line.contains("--grad-kernel") && line.contains("it is a directory"), line);
        assertTrue(Files.isDirectory(dir));
    }

    @ParameterizedTest
    @ValueSource(strings = {"conv", "conv-transpose"})
    void twoOutputsNamingOneFileAreRefused(String command) {
        List<String> args = new ArrayList<>(List.of(fullCallWithout("--grad-kernel")));
        args.addAll(List.of("--grad-kernel", dir.resolve(".").resolve("dx.npy").toString()));
        String line = assertFailsWritingNothing(run(command, args.toArray(String[]::new)), Main.EXIT_INVALID);
        assertTrue(line.contains("--grad-kernel") && line.contains("--grad-input"), line);
    }

    @ParameterizedTest
    @ValueSource(strings = {"conv", "conv-transpose"})
    void outputsThatExistedAreLeftAsTheyWereOnFailure(String command) throws IOException {
        byte[] before = {1, 2, 3};
        for (Path output : new Path[] {y, dx, dk, db}) {
            Files.write(output, before);
        }
        Npy.write(files.cotangent(), RandomTensors.uniform(new SplittableRandom(8), 2, 6, 6, 3));
        CliRun run = run(command, fullCallWithout());
        assertEquals(Main.EXIT_INVALID, run.exitCode(), run.stderr());
        for (Path output : new Path[] {y, dx, dk, db}) {
            assertArrayEquals(before, Files.readAllBytes(output), output.toString());
        }
    }
}
