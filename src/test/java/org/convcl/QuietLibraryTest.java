package org.convcl;

import org.convcl.nn.Convolution;
import org.convcl.nn.Conv;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.convcl.io.Npy;
import org.convcl.testing.RandomTensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The library logs through slf4j only: whatever it does, it writes nothing to System.out. */
class QuietLibraryTest {

    @TempDir
    Path dir;

    @Test
    void convolutionsRefusalsAndFilesPrintNothingOnStdout() throws Exception {
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            SplittableRandom random = new SplittableRandom(5);
            Tensor x = RandomTensors.uniform(random, 2, 16, 16, 4);
            Tensor kernel = RandomTensors.uniform(random, 3, 3, 2, 6);
            Tensor bias = RandomTensors.uniform(random, 6);
            ConvSpec spec = ConvSpec.builder().strides(2).padding(Padding.REFLECT).groups(2).build();
            Conv.builder(kernel).bias(bias).spec(spec).build().apply(x);
            Convolution.conv(x, kernel, null, spec);
            assertThrows(IllegalArgumentException.class,
                    () -> Convolution.conv(x, kernel, null, spec.toBuilder().inputDilation(2).build()));
            Path file = dir.resolve("x.npy");
            Npy.write(file, x);
            Npy.read(file);
        } finally {
            System.setOut(original);
        }
        assertEquals("", captured.toString(StandardCharsets.UTF_8));
    }
}
