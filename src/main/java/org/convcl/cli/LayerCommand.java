package org.convcl.cli;

import java.util.function.BinaryOperator;
import java.util.function.UnaryOperator;
import org.convcl.DType;
import org.convcl.nn.ConvGradients;
import org.convcl.Tensor;
import org.convcl.backend.ConvBackend;

/**
 * What {@code conv} and {@code conv-transpose} each add to the run they share ({@link LayerRun#execute}): the
 * settings and operand files of their own, and the layer they build. The run calls these between its own steps
 * in a fixed order, which is the order in which the CLI refuses bad input; so a command only parses, reads and
 * builds here, and keeps what it parsed or read for {@link #layer}.
 *
 * <p>The options the two commands share are declared once, as picocli mixins: {@link InputOption},
 * {@link BiasOption}, {@link KernelDilationOption} and {@link LayerRun} ({@link LayoutOption},
 * {@link PrecisionOption}, {@link DTypeOption}, {@code --backend}, {@code --output}).
 * Picocli lists a mixin's options at the place the mixin is declared, and the shared options alternate with
 * each command's own ({@code --kernel}, whose layout and so whose help differ, comes between {@code --input} and
 * {@code --bias}); so each shared run of options is a mixin of its own, declared where its options belong in
 * the help, the synopsis and the "Missing required options" message.
 */
interface LayerCommand {

    /** The help's paragraph on file formats, the same for both commands. */
    String FILE_FORMATS = "Inputs are .npy float32 or float64, either byte order, C order. Outputs are written as "
            + "little-endian float32 .npy. --dtype float16 reads and writes float16 instead (see --dtype).";

    /** The help's exit codes, the same for both commands; picocli makes each %n a line break. */
    String EXIT_CODES = "  0  success: Y (and the gradients asked for) written%n"
            + "  1  reading or writing a file failed once begun (no output is written)%n"
            + "  2  invalid option, configuration, file path or input file content (no output is written)";

    /**
     * Parses and checks the command's own settings (strides, padding, ...) into its spec. Called after the
     * gradient options are checked and before {@code --backend} is parsed or any file is read.
     */
    void parseSettings();

    /**
     * Reads the operand files only this command takes, after X, K and B, through {@code files} (so that no output
     * may overwrite them); none unless overridden.
     */
    default void readOwnOperands(InputFiles files) {
    }

    /**
     * The command's layer from K and B (and what the two steps above kept), computing in {@code dtype} on
     * {@code backend}, checked as the layer's builder checks it. Called twice: on the Java backend to refuse a bad
     * configuration before any device is touched, then on the backend asked for.
     */
    Layer layer(Tensor kernel, Tensor bias, EpilogueOptions epilogue, DType dtype, ConvBackend backend);

    /**
     * The three calls the run makes on a layer. Conv and ConvTranspose share no type that has them (their
     * geometries differ), so each command hands its layer's methods over in this record.
     *
     * @param outputShape the output shape for an input shape, refusing what the layer cannot run
     * @param forward the layer applied to X and a residual R (null when none)
     * @param backward the gradients for X, R (or null) and a cotangent CT of the output
     */
    record Layer(UnaryOperator<int[]> outputShape, BinaryOperator<Tensor> forward, Backward backward) {
    }

    /** A layer's {@code backward(x, residual, dy)}. */
    @FunctionalInterface
    interface Backward {
        ConvGradients apply(Tensor x, Tensor residual, Tensor cotangent);
    }
}
