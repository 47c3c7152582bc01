package org.convcl.cli;

import java.nio.file.Path;
import org.convcl.DType;
import org.convcl.Layout;
import org.convcl.Precision;
import org.convcl.Tensor;
import org.convcl.backend.BackendChoice;
import org.convcl.nn.Backends;
import org.convcl.backend.cpu.CpuBackend;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code --layout}, {@code --precision}, {@code --dtype}, {@code --backend} and {@code --output}, a picocli mixin
 * that {@code conv} and {@code conv-transpose} declare after their own options (see {@link LayerCommand}), and the
 * run the two commands share, so that its order, which is the CLI's contract, is written once: every setting and every input is checked before a backend is
 * chosen or anything is computed, and the outputs are written last, all or none ({@link OutputFiles}), so a
 * failure never leaves an output file behind (nor touches one that existed).
 *
 * <p>The backward-pass group ({@link GradientOutputs}) stays in each command: picocli 4.7.6 prints the options of
 * a non-validating group twice in the synopsis when the group comes from a mixin (picocli issue 2341).
 */
final class LayerRun {
    // Mixins of their own (--precision serves bench and tune too), declared first so that the help lists them
    // before --backend.
    @Mixin
    private LayoutOption layoutOption;

    @Mixin
    private PrecisionOption precisionOption;

    @Mixin
    private DTypeOption dtypeOption;

    @Option(names = "--backend", paramLabel = "auto|cpu|opencl", defaultValue = "auto",
            description = "Where to compute: auto (an OpenCL GPU when there is one, else Java), cpu (pure "
                    + "Java) or opencl. Default: ${DEFAULT-VALUE}.")
    private String backend;

    @Option(names = "--output", required = true, paramLabel = "Y.npy",
            description = "Where to write Y (*batch, *out_spatial, Cout); replaced atomically.")
    private Path output;

    /** The command this mixin was given to: usage errors name it. */
    @Spec(Spec.Target.MIXEE)
    private CommandSpec command;

    /** The {@code --layout} given; refused as {@link LayoutOption#parse} says. */
    Layout layout() {
        return layoutOption.parse();
    }

    /** The {@code --precision} given; refused as {@link PrecisionOption#parse} says. */
    Precision precision() {
        return precisionOption.parse();
    }

    /**
     * Runs the layer of {@code layerCommand} on X, K and B and writes Y (and the gradients asked for), in the
     * contract's order; refusals are exceptions that {@link Main} turns into exit codes.
     *
     * @param input the command's {@code --input}
     * @param kernelFile the command's {@code --kernel}, read after X and before B
     * @param bias the command's {@code --bias}
     * @param gradientGroup the command's backward-pass options, as picocli left them (null when none was given)
     * @param layerCommand the command's own steps, called in the order {@link LayerCommand} describes
     * @return {@link Main#EXIT_OK}
     */
    Integer execute(InputOption input, Path kernelFile, BiasOption bias, EpilogueOptions epilogue,
            GradientOutputs gradientGroup, LayerCommand layerCommand) {
        GradientOutputs gradients = GradientOutputs.orNone(gradientGroup);
        gradients.checkCombination(command.commandLine(), bias.given(), epilogue);
        layerCommand.parseSettings();
        epilogue.parseSettings();
        DType dtype = dtypeOption.parse();
        BackendChoice choice = BackendChoice.parse(backend);
        DTypeOption.checkPrecision(dtype, precision());

        InputFiles files = new InputFiles(dtype);
        Tensor x = input.read(files);
        Tensor k = files.read("--kernel", kernelFile);
        Tensor b = bias.read(files);
        layerCommand.readOwnOperands(files);
        epilogue.readOperands(files);

        // Validate everything flax would refuse with the Java backend, which holds nothing, so that no
        // device is touched (and nothing logged) for a configuration that is refused anyway.
        int[] outputShape = layerCommand.layer(k, b, epilogue, dtype, CpuBackend.instance()).outputShape()
                .apply(x.shape());
        Tensor residual = epilogue.readResidual(files, outputShape);
        Tensor ct = gradients.requested() ? gradients.readCotangent(files, outputShape) : null;
        // Declared after every input is read, so that an output naming one of them is refused.
        OutputFiles outputs = new OutputFiles(files.paths());
        outputs.declare("--output", output);
        gradients.declareOutputs(outputs);

        // A 16-bit layer rounds X, K, B, R and CT to its type and gives float32 tensors of the type's values.
        LayerCommand.Layer layer = layerCommand.layer(k, b, epilogue, dtype, Backends.select(choice));
        outputs.putStored("--output", dtype, layer.forward().apply(x, residual));
        if (ct != null) {
            gradients.putGradients(outputs, dtype, layer.backward().apply(x, residual, ct));
        }
        outputs.writeAll();
        return Main.EXIT_OK;
    }
}
