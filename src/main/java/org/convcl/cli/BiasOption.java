package org.convcl.cli;

import java.nio.file.Path;
import org.convcl.Tensor;
import picocli.CommandLine.Option;

/**
 * {@code --bias}, the optional bias B that {@code conv} and {@code conv-transpose} take alike: a picocli mixin,
 * one of the shared options that {@link LayerCommand} lists.
 */
final class BiasOption {
    @Option(names = "--bias", paramLabel = "B.npy", description = "Bias (Cout), added to every output "
            + "position. Default: no bias.")
    private Path file;

    boolean given() {
        return file != null;
    }

    /** The bias, or null when none was given. */
    Tensor read(InputFiles files) {
        return files.readIfGiven("--bias", file);
    }
}
