package org.convcl.cli;

import java.nio.file.Path;
import org.convcl.DType;
import org.convcl.Tensor;
import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * The backward-pass options of {@code pool}: {@code --cotangent} and {@code --grad-input}, named and checked as
 * {@link GradientOutputs} names and checks them for the convolutions, less the kernel and bias a pooling does not
 * have. A group of its own rather than {@link GradientOutputs}, whose rules ask for {@code --grad-kernel}.
 */
final class PoolGradientOutputs {
    @Option(names = GradientOutputs.COTANGENT, paramLabel = "CT.npy",
            description = "Gradient of a loss with respect to Y (Y's shape). With it, the gradient of sum(Y * CT) "
                    + "with respect to X is written too; needs --grad-input.")
    private Path cotangent;

    @Option(names = GradientOutputs.GRAD_INPUT, paramLabel = "DX.npy",
            description = "Where to write dX, the gradient with respect to X (X's shape).")
    private Path gradInput;

    /** {@code group}, or none asked for when picocli left the group null. */
    static PoolGradientOutputs orNone(PoolGradientOutputs group) {
        return group == null ? new PoolGradientOutputs() : group;
    }

    /** Refuses one option without the other as a usage error (exit 2), before any file is read. */
    void checkCombination(CommandLine command) {
        if (cotangent == null && gradInput != null) {
            throw new ParameterException(command, GradientOutputs.GRAD_INPUT + " given without "
                    + GradientOutputs.COTANGENT + " CT.npy; gradients need the gradient of the output to "
                    + "propagate back");
        }
        if (cotangent != null && gradInput == null) {
            throw new ParameterException(command, GradientOutputs.COTANGENT + " needs " + GradientOutputs.GRAD_INPUT
                    + " too: with a cotangent, dX is written");
        }
    }

    /** Whether the backward pass was asked for. */
    boolean requested() {
        return cotangent != null;
    }

    /** CT, checked against Y's shape as {@link GradientOutputs#readCotangent} checks it. */
    Tensor readCotangent(InputFiles files, int[] outputShape) {
        return GradientOutputs.readCotangent(files, cotangent, outputShape);
    }

    /** Declares {@code --grad-input} when the backward pass was asked for, after {@code --output}. */
    void declareOutputs(OutputFiles outputs) {
        if (cotangent != null) {
            outputs.declare(GradientOutputs.GRAD_INPUT, gradInput);
        }
    }

    /** Hands dX, in the run's {@code dtype}, to the output declared by {@link #declareOutputs}. */
    void putGradient(OutputFiles outputs, DType dtype, Tensor dx) {
        outputs.putStored(GradientOutputs.GRAD_INPUT, dtype, dx);
    }
}
