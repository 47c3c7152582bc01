package org.convcl.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.convcl.ConvTranspose;
import org.convcl.ConvTransposeSpec;
import org.convcl.Padding;
import org.convcl.Tensor;
import org.convcl.backend.BackendChoice;
import org.convcl.backend.Backends;
import org.convcl.backend.ConvBackend;
import org.convcl.backend.CpuBackend;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code convcl conv-transpose}: one transposed convolution from {@code .npy} files, exactly as flax
 * {@code nnx.ConvTranspose} computes it, and on request its backward pass ({@link GradientOutputs}). The
 * contract is {@code conv}'s: everything is checked before a backend is chosen or anything is computed, and
 * the outputs are written last, all or none ({@link OutputFiles}).
 */
@Command(name = "conv-transpose", mixinStandardHelpOptions = true, sortOptions = false, sortSynopsis = false,
        usageHelpWidth = 100,
        versionProvider = Version.class,
        header = "Transposed convolution as flax nnx.ConvTranspose does: Y = conv_transpose(X, K) + B.",
        description = {"",
            "X is (*batch, *spatial, Cin) with zero, one or several batch dims; K is (*k, Cin, Cout), or "
                + "(*k, Cout, Cin) with --transpose-kernel, and its rank gives the number n <= 3 of spatial dims; "
                + "Y is (*batch, *out_spatial, Cout), upsampled by the strides (SAME: out = in * stride).",
            "With --cotangent CT, also writes the gradients of sum(Y * CT) with respect to X, K and B.",
            "Inputs are .npy float32 or float64, either byte order, C order. Outputs are written as "
                + "little-endian float32 .npy.",
            ""},
        footerHeading = "%nExit codes:%n",
        footer = {"  0  success: Y (and the gradients asked for) written",
            "  1  a file cannot be read or written (no output is written)",
            "  2  invalid option, configuration or input file content (no output is written)",
            "", "Examples:",
            "  convcl conv-transpose --input x.npy --kernel k.npy --strides 2 --output y.npy",
            "  convcl conv-transpose --input x.npy --kernel k.npy --strides 2 --padding circular \\",
            "      --transpose-kernel --output y.npy --cotangent ct.npy --grad-input dx.npy \\",
            "      --grad-kernel dk.npy"})
final class ConvTransposeCommand implements Callable<Integer> {

    @Option(names = "--input", required = true, paramLabel = "X.npy",
            description = "Input (*batch, *spatial, Cin).")
    private Path input;

    @Option(names = "--kernel", required = true, paramLabel = "K.npy",
            description = "Kernel (*k, Cin, Cout), or (*k, Cout, Cin) with --transpose-kernel; its rank minus 2 is "
                    + "the number of spatial dims n (1 to 3).")
    private Path kernel;

    @Option(names = "--bias", paramLabel = "B.npy", description = "Bias (Cout), added to every output "
            + "position. Default: no bias.")
    private Path bias;

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

    @Option(names = "--kernel-dilation", paramLabel = "D", defaultValue = "1",
            description = "rhs dilation: D-1 gaps between kernel taps; one int or n comma-separated ints. "
                    + "Default: ${DEFAULT-VALUE}.")
    private String kernelDilation;

    @Option(names = "--transpose-kernel",
            description = "flax's transpose_kernel=True: K is (*k, Cout, Cin), flipped in every spatial dim and "
                    + "channel-swapped before use (the gradient of a conv with respect to its input).")
    private boolean transposeKernel;

    @Option(names = "--backend", paramLabel = "auto|cpu|opencl", defaultValue = "auto",
            description = "Where to compute: auto (an OpenCL GPU when there is one, else Java), cpu (pure "
                    + "Java) or opencl. Default: ${DEFAULT-VALUE}.")
    private String backend;

    @Option(names = "--output", required = true, paramLabel = "Y.npy",
            description = "Where to write Y (*batch, *out_spatial, Cout); replaced atomically.")
    private Path output;

    @ArgGroup(exclusive = false, validate = false, heading = GradientOutputs.HEADING)
    private GradientOutputs gradientGroup;

    @Spec
    private CommandSpec command;

    @Override
    public Integer call() {
        GradientOutputs gradients = GradientOutputs.orNone(gradientGroup);
        gradients.checkCombination(command.commandLine(), bias != null);
        ConvTransposeSpec spec = ConvTransposeSpec.builder()
                .strides(PerDimInts.parse("--strides", strides))
                .padding(Padding.parse(padding))
                .kernelDilation(PerDimInts.parse("--kernel-dilation", kernelDilation))
                .transposeKernel(transposeKernel)
                .build();
        BackendChoice choice = BackendChoice.parse(backend);

        Tensor x = InputFiles.read("--input", input);
        Tensor k = InputFiles.read("--kernel", kernel);
        Tensor b = InputFiles.readIfGiven("--bias", bias);

        // As in conv: every refusal comes from the Java backend's layer, before any device is touched.
        int[] outputShape = layer(k, b, spec, CpuBackend.instance()).geometry(x.shape()).outputShape();
        Tensor ct = gradients.requested() ? gradients.readCotangent(outputShape) : null;
        OutputFiles outputs = new OutputFiles();
        outputs.declare("--output", output);
        gradients.declareOutputs(outputs);

        ConvTranspose layer = layer(k, b, spec, Backends.select(choice));
        outputs.put("--output", layer.apply(x));
        if (ct != null) {
            gradients.putGradients(outputs, layer.backward(x, ct));
        }
        outputs.writeAll();
        return Main.EXIT_OK;
    }

    private static ConvTranspose layer(Tensor k, Tensor b, ConvTransposeSpec spec, ConvBackend backend) {
        return ConvTranspose.builder(k).bias(b).spec(spec).backend(backend).build();
    }
}
