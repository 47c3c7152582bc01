package org.convcl.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.convcl.nn.Conv;
import org.convcl.ConvSpec;
import org.convcl.DType;
import org.convcl.Layout;
import org.convcl.Padding;
import org.convcl.Tensor;
import org.convcl.backend.ConvBackend;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code convcl conv}: one convolution from {@code .npy} files to a {@code .npy} file, exactly as flax
 * {@code nnx.Conv} computes it, and on request its backward pass ({@link GradientOutputs}). The order of the
 * work is part of the contract; {@link LayerRun} keeps it for this command and {@code conv-transpose}, which
 * also share the options that mean the same for both (see {@link LayerCommand}).
 */
@Command(name = "conv", mixinStandardHelpOptions = true, sortOptions = false, sortSynopsis = false,
        usageHelpWidth = 100,
        versionProvider = Version.class,
        header = "Convolves X with kernel K as flax nnx.Conv does: Y = conv(X, K * M) + B.",
        description = {"",
            "X is (*batch, *spatial, Cin) with zero, one or several batch dims; K is (*k, Cin/G, Cout) and its "
                + "rank gives the number n of spatial dims; Y is (*batch, *out_spatial, Cout). With --layout "
                + "channels-first: X (*batch, Cin, *spatial), K (Cout, Cin/G, *k), Y (*batch, Cout, *out_spatial).",
            "With --scale S, --shift T, --residual R or --activation, Y = act((conv(X, K * M) + B) * S + T + R), "
                + "applied in the convolution's store (a folded batch norm, a skip connection, jax.nn's activations).",
            "With --cotangent CT, also writes the gradients of sum(Y * CT) with respect to X, K and B (and S, T, R), "
                + "as jax differentiates them.",
            LayerCommand.FILE_FORMATS,
            ""},
        footerHeading = "%nExit codes:%n",
        footer = {LayerCommand.EXIT_CODES,
            "", "Examples:",
            "  convcl conv --input x.npy --kernel k.npy --padding=-2:1,0:-3 --output y.npy",
            "  convcl conv --layout channels-first --input nchw.npy --kernel oihw.npy --output y.npy",
            "  convcl conv --input x.npy --kernel k.npy --scale s.npy --shift t.npy --residual r.npy \\",
            "      --activation relu --output y.npy",
            "  convcl conv --input x.npy --kernel k.npy --bias b.npy --output y.npy \\",
            "      --cotangent ct.npy --grad-input dx.npy --grad-kernel dk.npy --grad-bias db.npy"})
final class ConvCommand implements Callable<Integer>, LayerCommand {

    @Mixin
    private InputOption input;

    @Option(names = "--kernel", required = true, paramLabel = "K.npy",
            description = "Kernel (*k, Cin/G, Cout), or (Cout, Cin/G, *k) (OIHW) with --layout channels-first; its "
                    + "rank minus 2 is the number of spatial dims n.")
    private Path kernel;

    @Mixin
    private BiasOption bias;

    @Mixin
    private EpilogueOptions epilogue;

    @Option(names = "--mask", paramLabel = "M.npy", description = "flax's kernel mask: same shape as K, "
            + "multiplied into K before the convolution. Default: none.")
    private Path mask;

    @Option(names = "--strides", paramLabel = "S", defaultValue = "1",
            description = "One int for every spatial dim, or n comma-separated ints. Default: ${DEFAULT-VALUE}.")
    private String strides;

    @Option(names = "--padding", paramLabel = "P", defaultValue = "SAME",
            description = {"SAME | SAME_LOWER | VALID | CIRCULAR | REFLECT | CAUSAL (any letter case); "
                + "or one int (both sides of every dim); or n comma-separated entries, each p (both sides) "
                + "or lo:hi. Negative values crop: --padding=-2:1,0:-3. Default: ${DEFAULT-VALUE}."})
    private String padding;

    @Option(names = "--input-dilation", paramLabel = "D", defaultValue = "1",
            description = "lhs dilation: D-1 zeros between input elements; one int or n comma-separated ints. "
                    + "String paddings require 1. Default: ${DEFAULT-VALUE}.")
    private String inputDilation;

    @Mixin
    private KernelDilationOption kernelDilation;

    @Option(names = "--groups", paramLabel = "G", defaultValue = "1",
            description = "Feature groups; Cin and Cout must be multiples of G. Default: ${DEFAULT-VALUE}.")
    private int groups;

    @Mixin
    private LayerRun run;

    @ArgGroup(exclusive = false, validate = false, heading = GradientOutputs.HEADING)
    private GradientOutputs gradientGroup;

    // What parseSettings and readOwnOperands keep for layer().
    private ConvSpec spec;
    private Layout layout;
    private Tensor maskTensor;

    @Override
    public Integer call() {
        return run.execute(input, kernel, bias, epilogue, gradientGroup, this);
    }

    @Override
    public void parseSettings() {
        spec = ConvSpec.builder()
                .strides(PerDimInts.parse("--strides", strides))
                .padding(Padding.parse(padding))
                .inputDilation(PerDimInts.parse("--input-dilation", inputDilation))
                .kernelDilation(kernelDilation.parse())
                .groups(groups)
                .precision(run.precision())
                .build();
        layout = run.layout();
    }

    @Override
    public void readOwnOperands(InputFiles files) {
        maskTensor = files.readIfGiven("--mask", mask);
    }

    @Override
    public Layer layer(Tensor k, Tensor b, EpilogueOptions epilogue, DType dtype, ConvBackend backend) {
        Conv conv = Conv.builder(k).bias(b)
                .scale(epilogue.scale()).shift(epilogue.shift()).activation(epilogue.activation())
                .mask(maskTensor).spec(spec).layout(layout).dtype(dtype).backend(backend).build();
        return new Layer(conv::outputShape, conv::apply, conv::backward);
    }
}
