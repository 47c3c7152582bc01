package org.convcl.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicReference;
import org.convcl.nn.Conv;
import org.convcl.ConvSpec;
import org.convcl.Tensor;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.io.Npy;
import org.convcl.io.NpyFormatException;
import org.convcl.testing.NpyBytes;
import org.convcl.testing.NpyMutator;
import org.convcl.testing.NpyMutator.Mutant;
import org.convcl.testing.RandomTensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutated {@code .npy} files through {@code convcl conv} in-process, one of input and kernel hostile at a
 * time. The library decides what each mutant is: a file {@link Npy#read} refuses must make the CLI exit 2
 * with that refusal as its one line and no output; a file it reads must give what {@link Conv} gives on the
 * same tensors: the same refusal (exit 2, one line, no output) or the same values in Y (exit 0). Never exit
 * 1 (the files are all readable), a stack trace, a hang or a partial output.
 */
class CliFuzzTest {
    private static final int MUTANTS = 400;
    private static final long SEED = 977L;
    private static final Duration TIME_LIMIT = Duration.ofSeconds(90);

    @TempDir
    Path dir;

    @Test
    void mutatedInputsAndKernelsEndInResultsOrOneLineRefusals() {
        AtomicReference<String> current = new AtomicReference<>("none yet");
        assertTimeoutPreemptively(TIME_LIMIT, () -> fuzz(current), () -> "hung or too slow on " + current.get());
    }

    private void fuzz(AtomicReference<String> current) throws Exception {
        SplittableRandom random = new SplittableRandom(SEED);
        Tensor x = RandomTensors.uniform(random, 2, 6, 6, 2);
        Tensor kernel = RandomTensors.uniform(random, 3, 3, 2, 4);
        byte[] xBytes = npyBytes(x);
        byte[] kernelBytes = npyBytes(kernel);
        Path xFile = dir.resolve("x.npy");
        Path kernelFile = dir.resolve("k.npy");
        Path output = dir.resolve("y.npy");
        int computed = 0;
        int refused = 0;
        for (int i = 0; i < MUTANTS; i++) {
            boolean hostileInput = i % 2 == 0;
            Mutant mutant = NpyMutator.mutate(random, hostileInput ? xBytes : kernelBytes);
            String option = hostileInput ? "--input" : "--kernel";
            Path hostileFile = hostileInput ? xFile : kernelFile;
            String context = "mutant " + i + " as " + option + " (" + mutant.description() + ")";
            current.set(context);
            Files.write(xFile, hostileInput ? mutant.bytes() : xBytes);
            Files.write(kernelFile, hostileInput ? kernelBytes : mutant.bytes());

            CliRun run = CliRun.of("conv", "--input", xFile.toString(), "--kernel", kernelFile.toString(),
                    "--backend", "cpu", "--output", output.toString());

            Tensor hostile;
            try {
                hostile = Npy.read(hostileFile);
            } catch (NpyFormatException refusal) {
                String line = run.assertFailure(Main.EXIT_INVALID, output);
                if (refusal.refusedDtype() != null && refusal.refusedDtype().matches("[<>]f2")) {
                    // A float16 file under the default --dtype float32: the CLI points at --dtype float16.
                    assertTrue(line.startsWith("convcl: " + option + " " + hostileFile + ": dtype '")
                            && line.contains("give --dtype float16"), context + ": " + line);
                } else {
                    assertEquals("convcl: " + Main.oneLine(option + " " + refusal.getMessage()), line, context);
                }
                refused++;
                continue;
            }
            Tensor expected;
            try {
                expected = Conv.builder(hostileInput ? kernel : hostile).spec(ConvSpec.defaults())
                        .backend(CpuBackend.instance()).build().apply(hostileInput ? hostile : x);
            } catch (IllegalArgumentException refusal) {
                String line = run.assertFailure(Main.EXIT_INVALID, output);
                assertEquals("convcl: " + Main.oneLine(refusal.getMessage()), line, context);
                refused++;
                continue;
            }
            assertEquals(Main.EXIT_OK, run.exitCode(), () -> context + ": stderr " + run.stderr());
            Tensor y = Npy.read(output);
            assertArrayEquals(expected.shape(), y.shape(), context);
            assertArrayEquals(expected.data(), y.data(), context);
            Files.delete(output);
            computed++;
        }
        // Guards the fuzzer: both outcomes must be exercised, or the test checks less than it claims.
        assertTrue(computed > MUTANTS / 50, "too few mutants computed (" + computed + ")");
        assertTrue(refused > MUTANTS / 2, "too few mutants refused (" + refused + ")");
    }

    /** Two files of about a hundred bytes whose shapes claim a billion kernel taps with no channels. */
    @Test
    void tinyFilesClaimingBillionsOfTapsAreAnsweredQuickly() throws Exception {
        Path xFile = dir.resolve("x.npy");
        Path kernelFile = dir.resolve("k.npy");
        Path biasFile = dir.resolve("b.npy");
        Path output = dir.resolve("y.npy");
        Files.write(xFile, NpyBytes.file(1, NpyBytes.dict("<f4", "(2, 6, 0)"), new byte[0]));
        Files.write(kernelFile, NpyBytes.file(1, NpyBytes.dict("<f4", "(1000000000, 0, 2)"), new byte[0]));
        Npy.write(biasFile, Tensor.of(new float[] {0.5f, -1}, 2));
        CliRun run = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> CliRun.of("conv", "--input",
                xFile.toString(), "--kernel", kernelFile.toString(), "--bias", biasFile.toString(), "--output",
                output.toString()));
        run.assertSuccess();
        Tensor y = Npy.read(output);
        assertArrayEquals(new int[] {2, 6, 2}, y.shape());
        for (int i = 0; i < y.size(); i++) {
            assertEquals(i % 2 == 0 ? 0.5f : -1f, y.data()[i], "an empty sum plus the bias, at " + i);
        }
    }

    private static byte[] npyBytes(Tensor tensor) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Npy.write(bytes, tensor);
        return bytes.toByteArray();
    }
}
