package org.convcl.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.convcl.Tensor;
import org.convcl.testing.NpyMutator;
import org.convcl.testing.NpyMutator.Mutant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opentest4j.AssertionFailedError;

/**
 * Thousands of mutated {@code .npy} files through {@link Npy#read}: each must end in a tensor consistent with
 * the file, or in an {@link NpyFormatException} whose message is one printable line naming the file, never in
 * another exception, an OutOfMemoryError or a hang. The seed is fixed so that a failure reproduces; its
 * message carries the mutant's description and first bytes.
 */
class NpyFuzzTest {
    private static final int MUTANTS = 4000;
    private static final long SEED = 20240607L;
    /** About ten times what the run takes on a loaded machine; a hang would take forever. */
    private static final Duration TIME_LIMIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @Test
    void everyMutantIsReadConsistentlyOrRefusedCleanly() {
        // One preemptive timeout around the whole run (a thread per file would cost more than the reads);
        // the mutant in hand when it fires is named in the failure.
        AtomicReference<String> current = new AtomicReference<>("none yet");
        assertTimeoutPreemptively(TIME_LIMIT, () -> fuzz(current), () -> "hung or too slow on " + current.get());
    }

    private void fuzz(AtomicReference<String> current) throws Exception {
        SplittableRandom random = new SplittableRandom(SEED);
        List<byte[]> seeds = NpyMutator.seeds();
        Path file = dir.resolve("mutant.npy");
        int accepted = 0;
        int refused = 0;
        for (int i = 0; i < MUTANTS; i++) {
            Mutant mutant = NpyMutator.mutate(random, seeds.get(random.nextInt(seeds.size())));
            int index = i;
            Supplier<String> context = () -> "mutant " + index + " (" + mutant.description() + "): "
                    + NpyMutator.hexHead(mutant.bytes());
            current.set("mutant " + i + " (" + mutant.description() + ")");
            Files.write(file, mutant.bytes());
            Outcome outcome = read(file, context);
            if (outcome.tensor() != null) {
                assertConsistent(outcome.tensor(), mutant.bytes(), context);
                accepted++;
            } else {
                assertCleanRefusal(outcome.refusal(), file, context);
                refused++;
            }
        }
        // Guards the fuzzer itself: mutants that all parse, or all fail at the magic string, test little.
        assertTrue(accepted > MUTANTS / 50, "too few mutants parse (" + accepted + "): the mutations are too blunt");
        assertTrue(refused > MUTANTS / 2, "too few mutants are refused (" + refused + "): the mutations are too mild");
    }

    /** The reader's answer: a tensor, or the refusal; any other throwable fails the test with the context. */
    private record Outcome(Tensor tensor, NpyFormatException refusal) {
    }

    private static Outcome read(Path file, Supplier<String> context) {
        try {
            return new Outcome(Npy.read(file), null);
        } catch (NpyFormatException refusal) {
            return new Outcome(null, refusal);
        } catch (Throwable other) { // OutOfMemoryError included: the point is that it never happens
            throw new AssertionFailedError(context.get() + ": threw " + other, other);
        }
    }

    /**
     * Accepted files must give a tensor whose shape holds exactly its values, and those values must be the
     * file's trailing bytes read as float32 or float64 in one byte order: what else the file holds came first.
     */
    private static void assertConsistent(Tensor tensor, byte[] bytes, Supplier<String> context) {
        assertEquals(Tensor.elementCount(tensor.shape()), tensor.size(), context);
        float[] values = tensor.data();
        for (int itemSize : new int[] {4, 8}) {
            for (ByteOrder order : new ByteOrder[] {ByteOrder.LITTLE_ENDIAN, ByteOrder.BIG_ENDIAN}) {
                if (decodesAs(bytes, values, itemSize, order)) {
                    return;
                }
            }
        }
        fail(context.get() + ": read " + tensor + " " + Arrays.toString(Arrays.copyOf(values, Math.min(8, values.length)))
                + "... which are not the file's last bytes in any float type and byte order");
    }

    private static boolean decodesAs(byte[] bytes, float[] values, int itemSize, ByteOrder order) {
        long dataBytes = (long) values.length * itemSize;
        if (dataBytes > bytes.length) {
            return false;
        }
        ByteBuffer data = ByteBuffer.wrap(bytes, (int) (bytes.length - dataBytes), (int) dataBytes).order(order);
        for (float value : values) {
            float expected = itemSize == 4 ? data.getFloat() : (float) data.getDouble();
            if (Float.floatToIntBits(expected) != Float.floatToIntBits(value)) {
                return false;
            }
        }
        return true;
    }

    /** One printable line that names the file: the CLI prints it as it is. */
    private static void assertCleanRefusal(NpyFormatException refusal, Path file, Supplier<String> context) {
        String message = refusal.getMessage();
        assertTrue(message.startsWith(file.toString()), () -> context.get() + ": the message names the file: " + message);
        assertTrue(message.length() < 600, () -> context.get() + ": the message is short: " + message.length()
                + " chars");
        for (int i = 0; i < message.length(); i++) {
            char c = message.charAt(i);
            boolean printable = c >= 0x20 && c != 0x7f && !(c >= 0x80 && c < 0xa0) && c != 0x2028 && c != 0x2029;
            if (!printable) {
                fail(context.get() + ": character U+" + String.format("%04X", (int) c) + " at " + i
                        + " of the message would break the one-line contract or a terminal: " + message);
            }
        }
    }
}
