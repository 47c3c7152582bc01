package org.convcl.testing;

import java.io.IOException;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.convcl.io.Npy;

/**
 * Small operand files for CLI tests of both layer commands: X (2, 6, 6, 2), K (3, 3, 2, 4) (read as (*k, Cin, Cout)
 * by conv and conv-transpose alike), a bias (4) and a cotangent (2, 6, 6, 4) (SAME keeps 6 x 6), as x.npy, k.npy,
 * b.npy and ct.npy in a folder.
 */
public record LayerFiles(Path x, Path kernel, Path bias, Path cotangent) {
    /** Writes random operands from {@code seed} into {@code dir}. */
    public static LayerFiles write(Path dir, long seed) throws IOException {
        SplittableRandom random = new SplittableRandom(seed);
        LayerFiles files = new LayerFiles(dir.resolve("x.npy"), dir.resolve("k.npy"), dir.resolve("b.npy"),
                dir.resolve("ct.npy"));
        Npy.write(files.x(), RandomTensors.uniform(random, 2, 6, 6, 2));
        Npy.write(files.kernel(), RandomTensors.uniform(random, 3, 3, 2, 4));
        Npy.write(files.bias(), RandomTensors.uniform(random, 4));
        Npy.write(files.cotangent(), RandomTensors.uniform(random, 2, 6, 6, 4));
        return files;
    }
}
