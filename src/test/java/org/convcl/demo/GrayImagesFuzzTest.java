package org.convcl.demo;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicReference;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutated PNG, BMP and GIF files through {@link GrayImages#read}: each ends in an image or in an
 * {@link IllegalArgumentException} naming the file (the CLI's exit 2), never in a decoder's own exception,
 * an error or a hang. JPEG is left out: its decoder is native code, which a fuzz test should not feed.
 */
class GrayImagesFuzzTest {
    private static final int MUTANTS = 600;
    private static final Duration TIME_LIMIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @Test
    void mutatedImagesDecodeOrAreRefusedCleanly() {
        AtomicReference<String> current = new AtomicReference<>("none yet");
        assertTimeoutPreemptively(TIME_LIMIT, () -> fuzz(current), () -> "hung or too slow on " + current.get());
    }

    private void fuzz(AtomicReference<String> current) throws Exception {
        List<byte[]> seeds = new ArrayList<>();
        BufferedImage picture = DefaultImage.create();
        for (String format : new String[] {"png", "bmp", "gif"}) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            assertTrue(ImageIO.write(picture, format, bytes), format);
            seeds.add(bytes.toByteArray());
        }
        SplittableRandom random = new SplittableRandom(4242);
        Path file = dir.resolve("mutant.img");
        int decoded = 0;
        int refused = 0;
        for (int i = 0; i < MUTANTS; i++) {
            byte[] seed = seeds.get(i % seeds.size());
            byte[] mutant;
            String how;
            switch (random.nextInt(3)) {
                case 0 -> {
                    mutant = seed.clone();
                    int flips = 1 + random.nextInt(6);
                    for (int f = 0; f < flips; f++) {
                        // Mostly in the first bytes, where the headers that size everything are.
                        int position = random.nextBoolean() ? random.nextInt(Math.min(64, seed.length))
                                : random.nextInt(seed.length);
                        mutant[position] ^= (byte) (1 << random.nextInt(8));
                    }
                    how = flips + " bit flips";
                }
                case 1 -> {
                    mutant = Arrays.copyOf(seed, random.nextInt(seed.length));
                    how = "truncated to " + mutant.length;
                }
                default -> {
                    mutant = seed.clone();
                    int position = random.nextInt(Math.min(40, seed.length));
                    byte value = new byte[] {0, (byte) 0xff, 0x7f, (byte) 0x80}[random.nextInt(4)];
                    for (int b = 0; b < 4 && position + b < mutant.length; b++) {
                        mutant[position + b] = value;
                    }
                    how = "4 bytes at " + position + " set to " + (value & 0xff);
                }
            }
            String context = "mutant " + i + " of the " + new String[] {"png", "bmp", "gif"}[i % 3] + " (" + how + ")";
            current.set(context);
            Files.write(file, mutant);
            try {
                BufferedImage image = GrayImages.read(file);
                GrayImages.toTensor(image);
                decoded++;
            } catch (IllegalArgumentException refusal) {
                assertTrue(refusal.getMessage().startsWith(file.toString()), context + ": " + refusal.getMessage());
                refused++;
            } catch (Throwable other) {
                throw new AssertionError(context + ": threw " + other, other);
            }
        }
        assertTrue(decoded > MUTANTS / 20 && refused > MUTANTS / 5, "decoded " + decoded + ", refused " + refused);
    }
}
