package org.convcl.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.convcl.nn.ConvTranspose;
import org.convcl.ConvTransposeSpec;
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
 * {@code convcl conv-transpose}: one transposed convolution from {@code .npy} files, exactly as flax
 * {@code nnx.ConvTranspose} computes it, and on request its backward pass ({@link GradientOutputs}). The
 * contract is {@code conv}'s, kept for both by {@link LayerRun}: everything is checked before a backend is
 * chosen or anything is computed, and the outputs are written last, all or none ({@link OutputFiles}).
 */
@Command(name = "conv-transpose", mixinStandardHelpOptions = true, sortOptions = false, sortSynopsis = false,
        usageHelpWidth = 100,
        versionProvider = Version.class,
        header = "Transposed convolution as flax nnx.ConvTranspose does: Y = conv_transpose(X, K) + B.",
        description = {"",
            "X is (*batch, *spatial, Cin) with zero, one or several batch dims; K is (*k, Cin, Cout), or "
                + "(*k, Cout, Cin) with --transpose-kernel, and its rank gives the number n <= 3 of spatial dims; "
                + "Y is (*batch, *out_spatial, Cout), upsampled by the strides (SAME: out = in * stride). With "
                + "--layout channels-first: X (*batch, Cin, *spatial), K PyTorch's (Cin, Cout, *k) with or without "
                + "--transpose-kernel, Y (*batch, Cout, *out_spatial).",
            "With --scale S, --shift T, --residual R or --activation, Y = act((conv_transpose(X, K) + B) * S + T + R), "
                + "applied in the last kernel's store (a folded batch norm, a skip connection, jax.nn's activations).",
            "With --cotangent CT, also writes the gradients of sum(Y * CT) with respect to X, K and B (and S, T, R).",
            LayerCommand.FILE_FORMATS,
            ""},
        footerHeading = "%nExit codes:%n",
        footer = {LayerCommand.EXIT_CODES,
            "", "Examples:",
            "  convcl conv-transpose --input x.npy --kernel k.npy --strides 2 --output y.npy",
            "  convcl conv-transpose --input x.npy --kernel k.npy --strides 2 --padding circular \\",
            "      --transpose-kernel --output y.npy --cotangent ct.npy --grad-input dx.npy \\",
            "      --grad-kernel dk.npy"})
final class ConvTransposeCommand implements Callable<Integer>, LayerCommand {

    @Mixin
    private InputOption input;

    @Option(names = "--kernel", required = true, paramLabel = "K.npy",
            description = "Kernel (*k, Cin, Cout), or (*k, Cout, Cin) with --transpose-kernel; with --layout "
                    + "channels-first, PyTorch's (Cin, Cout, *k) either way. Its rank minus 2 is the number of "
                    + "spatial dims n (1 to 3).")
    private Path kernel;

    @Mixin
    private BiasOption bias;

    @Mixin
    private EpilogueOptions epilogue;

    @Option(names = "--strides", paramLabel = "S", defaultValue = "1",
            description = "The upsampling factor: one int for every spatial dim, or n comma-separated ints. "
                    + "Default: ${DEFAULT-VALUE}.")
    private String strides;

    @Option(names = "--padding", paramLabel = "P", defaultValue = "SAME",
            description = {"SAME | VALID | CIRCULAR (any letter case; SAME_LOWER too, with stride 1, as jax); "
                + "or one int (both sides of every dim); or n comma-separated entries, each p (both sides) or "
                + "lo:hi, in the coordinates of the stride-dilated input. Negative values crop. "
                + "Default: ${DEFAULT-VALUE}."})
    private String padding;

    @Mixin
    private KernelDilationOption kernelDilation;

    @Option(names = "--transpose-kernel",
            description = "flax's transpose_kernel=True: K is (*k, Cout, Cin), flipped in every spatial dim and "
                    + "channel-swapped before use (the gradient of a conv with respect to its input; with --layout "
                    + "channels-first, PyTorch's ConvTranspose arithmetic for its (Cin, Cout, *k) weight).")
    private boolean transposeKernel;

    @Mixin
    private LayerRun run;

    @ArgGroup(exclusive = false, validate = false, heading = GradientOutputs.HEADING)
    private GradientOutputs gradientGroup;

    // What parseSettings keeps for layer().
    private ConvTransposeSpec spec;
    private Layout layout;

    @Override
    public Integer call() {
        return run.execute(input, kernel, bias, epilogue, gradientGroup, this);
    }

    @Override
    public void parseSettings() {
        spec = ConvTransposeSpec.builder()
                .strides(PerDimInts.parse("--strides", strides))
                .padding(Padding.parse(padding))
                .kernelDilation(kernelDilation.parse())
                .transposeKernel(transposeKernel)
                .precision(run.precision())
                .build();
        layout = run.layout();
    }

    @Override
    public Layer layer(Tensor k, Tensor b, EpilogueOptions epilogue, DType dtype, ConvBackend backend) {
        ConvTranspose transpose = ConvTranspose.builder(k).bias(b)
                .scale(epilogue.scale()).shift(epilogue.shift()).activation(epilogue.activation())
                .spec(spec).layout(layout).dtype(dtype).backend(backend).build();
        return new Layer(transpose::outputShape, transpose::apply, transpose::backward);
    }
}
