package org.convcl.cli;

import picocli.CommandLine.Option;

/**
 * {@code --kernel-dilation}, which {@code conv} and {@code conv-transpose} take alike: a picocli mixin, one of the
 * shared options that {@link LayerCommand} lists.
 */
final class KernelDilationOption {
    @Option(names = "--kernel-dilation", paramLabel = "D", defaultValue = "1",
            description = "rhs dilation: D-1 gaps between kernel taps; one int or n comma-separated ints. "
                    + "Default: ${DEFAULT-VALUE}.")
    private String text;

    /** The ints given; their count and range are the library's to check. */
    int[] parse() {
        return PerDimInts.parse("--kernel-dilation", text);
    }
}
