package org.convcl.cli;

import org.convcl.Precision;
import picocli.CommandLine.Option;

/**
 * {@code --precision}, which {@code conv}, {@code conv-transpose}, {@code bench} and {@code tune} take alike: a
 * picocli mixin. What TF32 computes is {@link Precision}'s to say; the help says it in one line.
 */
final class PrecisionOption {
    @Option(names = "--precision", paramLabel = "highest|tf32", defaultValue = "highest",
            description = "How products are computed: highest (float32, flax's exact semantics) or tf32 (operands "
                    + "rounded to TensorFloat-32, float32 accumulation; tensor cores on NVIDIA GPUs of compute "
                    + "capability 8.0+, the same rounding elsewhere; depthwise stays float32). "
                    + "Default: ${DEFAULT-VALUE}.")
    private String text;

    /** The precision named, in any letter case; anything else is refused naming the option and the choices. */
    Precision parse() {
        try {
            return Precision.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--precision: got '" + text + "'; expected highest or tf32");
        }
    }
}
