package org.convcl.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.convcl.DType;
import org.convcl.nn.ConvGradients;
import org.convcl.Tensor;
import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * The backward-pass options shared by {@code conv} and {@code conv-transpose} (a picocli argument group, for a
 * help section of its own; see {@link #HEADING}): given the
 * gradient CT of some loss with respect to the output Y, write the gradients of {@code sum(Y * CT)} with
 * respect to the input, the kernel, the bias and the epilogue's scale, shift and residual, beside Y. The rules of
 * the combination live here, once: {@code --cotangent} needs {@code --grad-input} and {@code --grad-kernel}; every
 * {@code --grad-*} needs {@code --cotangent}; {@code --grad-bias}, {@code --grad-scale}, {@code --grad-shift} and
 * {@code --grad-residual} need their operand; CT has Y's shape.
 */
final class GradientOutputs {
    static final String COTANGENT = "--cotangent";
    static final String GRAD_INPUT = "--grad-input";
    static final String GRAD_KERNEL = "--grad-kernel";
    static final String GRAD_BIAS = "--grad-bias";
    static final String GRAD_SCALE = "--grad-scale";
    static final String GRAD_SHIFT = "--grad-shift";
    static final String GRAD_RESIDUAL = "--grad-residual";

    /**
     * Commands hold this class as {@code @ArgGroup(exclusive = false, validate = false, heading = HEADING)}:
     * a group only for the help section; its rules are checked by {@link #checkCombination}, whose messages
     * say more than picocli's would. Picocli leaves the field null when none of the options is given, which
     * {@link #orNone} turns into an instance that asks for nothing.
     */
    static final String HEADING = "%nBackward pass (gradients of sum(Y * CT)):%n";

    @Option(names = COTANGENT, paramLabel = "CT.npy",
            description = "Gradient of a loss with respect to Y (Y's shape). With it, the gradients of "
                    + "sum(Y * CT) are written too; needs --grad-input and --grad-kernel.")
    private Path cotangent;

    @Option(names = GRAD_INPUT, paramLabel = "DX.npy",
            description = "Where to write dX, the gradient with respect to X (X's shape).")
    private Path gradInput;

    @Option(names = GRAD_KERNEL, paramLabel = "DK.npy",
            description = "Where to write dK, the gradient with respect to K (K's shape; masked like K when "
                    + "there is a mask).")
    private Path gradKernel;

    @Option(names = GRAD_BIAS, paramLabel = "DB.npy",
            description = "Where to write dB, the gradient with respect to B (shape (Cout)); needs --bias. "
                    + "Default: not written.")
    private Path gradBias;

    @Option(names = GRAD_SCALE, paramLabel = "DS.npy",
            description = "Where to write the gradient with respect to --scale S ((Cout)); needs --scale. "
                    + "Default: not written.")
    private Path gradScale;

    @Option(names = GRAD_SHIFT, paramLabel = "DT.npy",
            description = "Where to write the gradient with respect to --shift T ((Cout)); needs --shift. "
                    + "Default: not written.")
    private Path gradShift;

    @Option(names = GRAD_RESIDUAL, paramLabel = "DR.npy",
            description = "Where to write the gradient with respect to --residual R (Y's shape); needs "
                    + "--residual. Default: not written.")
    private Path gradResidual;

    /** {@code group}, or none asked for when picocli left the group null. */
    static GradientOutputs orNone(GradientOutputs group) {
        return group == null ? new GradientOutputs() : group;
    }

    /**
     * Refuses an incomplete combination as a usage error (exit 2), before any file is read.
     *
     * @param command the command line these options were given to, named in the message
     * @param hasBias whether the command was given {@code --bias}
     * @param epilogue the command's epilogue options: each epilogue gradient needs its operand
     */
    void checkCombination(CommandLine command, boolean hasBias, EpilogueOptions epilogue) {
        if (cotangent == null) {
            List<String> orphans = new ArrayList<>();
            addIf(gradInput != null, orphans, GRAD_INPUT);
            addIf(gradKernel != null, orphans, GRAD_KERNEL);
            addIf(gradBias != null, orphans, GRAD_BIAS);
            addIf(gradScale != null, orphans, GRAD_SCALE);
            addIf(gradShift != null, orphans, GRAD_SHIFT);
            addIf(gradResidual != null, orphans, GRAD_RESIDUAL);
            if (!orphans.isEmpty()) {
                throw new ParameterException(command, String.join(" and ", orphans) + " given without "
                        + COTANGENT + " CT.npy; gradients need the gradient of the output to propagate back");
            }
            return;
        }
        List<String> missing = new ArrayList<>();
        addIf(gradInput == null, missing, GRAD_INPUT);
        addIf(gradKernel == null, missing, GRAD_KERNEL);
        if (!missing.isEmpty()) {
            throw new ParameterException(command, COTANGENT + " needs " + String.join(" and ", missing)
                    + " too: with a cotangent, dX and dK are both written");
        }
        if (gradBias != null && !hasBias) {
            throw new ParameterException(command, GRAD_BIAS + " " + gradBias + " given without --bias; there "
                    + "is no bias to differentiate");
        }
        needsOperand(command, GRAD_SCALE, gradScale, EpilogueOptions.SCALE, epilogue.hasScale());
        needsOperand(command, GRAD_SHIFT, gradShift, EpilogueOptions.SHIFT, epilogue.hasShift());
        needsOperand(command, GRAD_RESIDUAL, gradResidual, EpilogueOptions.RESIDUAL, epilogue.hasResidual());
    }

    private static void needsOperand(CommandLine command, String gradOption, Path gradPath, String operandOption,
            boolean operandGiven) {
        if (gradPath != null && !operandGiven) {
            throw new ParameterException(command, gradOption + " " + gradPath + " given without " + operandOption
                    + "; there is no " + operandOption.substring(2) + " to differentiate");
        }
    }

    /** Whether the backward pass was asked for. */
    boolean requested() {
        return cotangent != null;
    }

    /**
     * Reads CT and checks it against the output shape the forward pass gives (exit 2 naming both shapes).
     * Call only when {@link #requested()}.
     */
    Tensor readCotangent(InputFiles files, int[] outputShape) {
        return readCotangent(files, cotangent, outputShape);
    }

    /**
     * Reads the {@code --cotangent} file {@code cotangent} and checks it against the output shape, as every
     * command with a backward pass does (exit 2 naming both shapes).
     */
    static Tensor readCotangent(InputFiles files, Path cotangent, int[] outputShape) {
        Tensor ct = files.read(COTANGENT, cotangent);
        if (!Arrays.equals(ct.shape(), outputShape)) {
            throw new IllegalArgumentException(COTANGENT + " " + cotangent + ": shape "
                    + Arrays.toString(ct.shape())
                    + " differs from the output's shape " + Arrays.toString(outputShape)
                    + "; the cotangent is the gradient with respect to Y and must have Y's shape");
        }
        return ct;
    }

    /** Declares the gradient outputs that were asked for, after the command's own {@code --output}. */
    void declareOutputs(OutputFiles outputs) {
        if (cotangent == null) {
            return;
        }
        outputs.declare(GRAD_INPUT, gradInput);
        outputs.declare(GRAD_KERNEL, gradKernel);
        if (gradBias != null) {
            outputs.declare(GRAD_BIAS, gradBias);
        }
        if (gradScale != null) {
            outputs.declare(GRAD_SCALE, gradScale);
        }
        if (gradShift != null) {
            outputs.declare(GRAD_SHIFT, gradShift);
        }
        if (gradResidual != null) {
            outputs.declare(GRAD_RESIDUAL, gradResidual);
        }
    }

    /**
     * Hands the computed gradients of a run in {@code dtype} to the outputs declared by {@link #declareOutputs}:
     * dX, dK and dR in the run's type ({@link OutputFiles#putStored}); dB, dS and dT float32 in every type, as a
     * 16-bit layer gives them (sums over a whole batch, and the gradients of float32 parameters).
     */
    void putGradients(OutputFiles outputs, DType dtype, ConvGradients gradients) {
        outputs.putStored(GRAD_INPUT, dtype, gradients.dx());
        outputs.putStored(GRAD_KERNEL, dtype, gradients.dkernel());
        if (gradBias != null) {
            outputs.put(GRAD_BIAS, gradients.dbias());
        }
        if (gradScale != null) {
            outputs.put(GRAD_SCALE, gradients.dscale());
        }
        if (gradShift != null) {
            outputs.put(GRAD_SHIFT, gradients.dshift());
        }
        if (gradResidual != null) {
            outputs.putStored(GRAD_RESIDUAL, dtype, gradients.dresidual());
        }
    }

    private static void addIf(boolean condition, List<String> names, String option) {
        if (condition) {
            names.add(option);
        }
    }
}
