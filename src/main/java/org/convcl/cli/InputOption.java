package org.convcl.cli;

import java.nio.file.Path;
import org.convcl.Tensor;
import picocli.CommandLine.Option;

/**
 * {@code --input}, the input X that {@code conv} and {@code conv-transpose} take alike: a picocli mixin, one of
 * the shared options that {@link LayerCommand} lists.
 */
final class InputOption {
    @Option(names = "--input", required = true, paramLabel = "X.npy",
            description = "Input (*batch, *spatial, Cin).")
    private Path file;

    Tensor read(InputFiles files) {
        return files.read("--input", file);
    }
}
