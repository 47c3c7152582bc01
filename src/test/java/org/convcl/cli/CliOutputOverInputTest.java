package org.convcl.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.convcl.demo.DefaultImage;
import org.convcl.io.Npy;
import org.convcl.testing.LayerFiles;
import org.convcl.testing.RandomTensors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * An output that names one of the command's inputs, compared as files after resolving links (the same path, a
 * symbolic link, a hard link), is refused on every command that writes files: exit 2, one line naming both
 * options, nothing written, the input's bytes unchanged.
 */
class CliOutputOverInputTest {

    @TempDir
    Path dir;

    private LayerFiles files;

    /** X (2, 6, 6, 2) and K (3, 3, 2, 4) suit conv and conv-transpose alike (SAME keeps 6 x 6). */
    @BeforeEach
    void inputs() throws IOException {
        files = LayerFiles.write(dir, 3);
    }

    /** Runs {@code args}, expects the refusal naming {@code option} and {@code inputOption}, and no change. */
    private void assertRefused(List<String> args, String option, Path target, String inputOption, Path input)
            throws IOException {
        byte[] before = Files.readAllBytes(input);
        List<String> namesBefore = fileNames();
        String line = CliRun.of(args).assertFailure(Main.EXIT_INVALID, null);
        assertEquals("convcl: " + option + " " + target + ": the same file as " + inputOption + " " + input
                + "; an output must not overwrite an input", line);
        assertArrayEquals(before, Files.readAllBytes(input), "the input is untouched");
        assertEquals(namesBefore, fileNames(), "nothing written (no output, no temporary file)");
    }

    private List<String> fileNames() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private List<String> layer(String command, String... extra) {
        List<String> args = new ArrayList<>(List.of(command, "--input", files.x().toString(),
                "--kernel", files.kernel().toString(),
                "--bias", files.bias().toString(), "--backend", "cpu"));
        args.addAll(Arrays.asList(extra));
        return args;
    }

    @ParameterizedTest
    @ValueSource(strings = {"conv", "conv-transpose"})
    void outputNamingTheInputItselfIsRefused(String command) throws IOException {
        assertRefused(layer(command, "--output", files.x().toString()), "--output", files.x(), "--input", files.x());
    }

    @ParameterizedTest
    @ValueSource(strings = {"conv", "conv-transpose"})
    void outputThatIsASymbolicLinkToAnInputIsRefused(String command) throws IOException {
        Path link = Files.createSymbolicLink(dir.resolve("link.npy"), files.kernel().getFileName());
        assertRefused(layer(command, "--output", link.toString()), "--output", link, "--kernel", files.kernel());
        assertTrue(Files.isSymbolicLink(link), "the link is left as it was");
    }

    @Test
    void outputThatIsAHardLinkOrAnotherSpellingOfAnInputIsRefused() throws IOException {
        Path hardLink = Files.createLink(dir.resolve("hard.npy"), files.bias());
        assertRefused(layer("conv", "--output", hardLink.toString()), "--output", hardLink, "--bias", files.bias());
        Path spelled = dir.resolve("sub").resolve("..").resolve("x.npy");
        Files.createDirectory(dir.resolve("sub"));
        assertRefused(layer("conv", "--output", spelled.toString()), "--output", spelled, "--input", files.x());
    }

    @Test
    void outputNamingTheMaskIsRefused() throws IOException {
        Path mask = dir.resolve("m.npy");
        Npy.write(mask, RandomTensors.uniform(new SplittableRandom(4), 3, 3, 2, 4));
        assertRefused(layer("conv", "--mask", mask.toString(), "--output", mask.toString()), "--output", mask,
                "--mask", mask);
    }

    @ParameterizedTest
    @ValueSource(strings = {"conv", "conv-transpose"})
    void gradientOutputsNamingAnInputAreRefused(String command) throws IOException {
        Path y = dir.resolve("y.npy");
        Path link = Files.createSymbolicLink(dir.resolve("ct-link.npy"), files.cotangent());
        assertRefused(layer(command, "--output", y.toString(), "--cotangent", files.cotangent().toString(),
                "--grad-input", link.toString(), "--grad-kernel", dir.resolve("dk.npy").toString()),
                "--grad-input", link, "--cotangent", files.cotangent());
        assertRefused(layer(command, "--output", y.toString(), "--cotangent", files.cotangent().toString(),
                "--grad-input", dir.resolve("dx.npy").toString(), "--grad-kernel", files.kernel().toString()),
                "--grad-kernel", files.kernel(), "--kernel", files.kernel());
        assertRefused(layer(command, "--output", y.toString(), "--cotangent", files.cotangent().toString(),
                "--grad-input", dir.resolve("dx.npy").toString(), "--grad-kernel", dir.resolve("dk.npy").toString(),
                "--grad-bias", files.x().toString()), "--grad-bias", files.x(), "--input", files.x());
    }

    @Test
    void demoOutputNamingItsImageIsRefused() throws IOException {
        Path image = dir.resolve("in.png");
        ImageIO.write(DefaultImage.create(), "png", image.toFile());
        Path link = Files.createSymbolicLink(dir.resolve("out.png"), image);
        assertRefused(List.of("demo", "--backend", "cpu", "--image", image.toString(), "--output", link.toString()),
                "--output", link, "--image", image);
    }

    @Test
    void benchJsonNamingItsSuiteIsRefusedBeforeTheRun() throws IOException {
        Path suite = dir.resolve("suite.json");
        try (InputStream embedded = getClass().getResourceAsStream("/bench/shapes.json")) {
            Files.copy(embedded, suite);
        }
        assertRefused(List.of("bench", "--backend", "cpu", "--suite", suite.toString(), "--json", suite.toString()),
                "--json", suite, "--suite", suite);
    }
}
