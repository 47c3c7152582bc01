package org.convcl.cli;

import org.convcl.backend.BackendChoice;
import picocli.CommandLine.Option;

/**
 * {@code --backend} as the commands that run layers for show ({@code examples}, {@code train-wavenet},
 * {@code demo}) take it: a picocli mixin, so that its help, which sends the reader to {@code conv}'s, is written
 * once. {@code conv} and {@code conv-transpose} say more at theirs ({@link LayerRun}); {@code bench}, {@code soak}
 * and {@code tune} say what the backend is for there.
 */
final class BackendOption {
    @Option(names = "--backend", paramLabel = "auto|cpu|opencl", defaultValue = "auto",
            description = "Where to compute (see convcl conv --help). Default: ${DEFAULT-VALUE}.")
    private String text;

    /** The choice named; anything else is refused as {@link BackendChoice#parse} refuses it. */
    BackendChoice parse() {
        return BackendChoice.parse(text);
    }
}
