package org.convcl.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.convcl.Conv;
import org.convcl.ConvSpec;
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
 * {@code convcl conv}: one convolution from {@code .npy} files to a {@code .npy} file, exactly as flax
 * {@code nnx.Conv} computes it, and on request its backward pass ({@link GradientOutputs}). The order of the
 * work is part of the contract: every setting and every input is checked before a backend is chosen or
 * anything is computed, and the outputs are written last, all or none ({@link OutputFiles}), so a failure
 * never leaves an output file behind (nor touches one that existed).
 */
@Command(name = "conv", mixinStandardHelpOptions = true, sortOptions = false, sortSynopsis = false,
        usageHelpWidth = 100,
        versionProvider = Version.class,
        header = "Convolves X with kernel K as flax nnx.Conv does: Y = conv(X, K * M) + B.",
        description = {"",
            "X is (*batch, *spatial, Cin) with zero, one or several batch dims; K is (*k, Cin/G, Cout) and its "
                + "rank gives the number n of spatial dims; Y is (*batch, *out_spatial, Cout).",
            "With --cotangent CT, also writes the gradients of sum(Y * CT) with respect to X, K and B, as jax "
                + "differentiates nnx.Conv.",
            "Inputs are .npy float32 or float64, either byte order, C order. Outputs are written as "
                + "little-endian float32 .npy.",
            ""},
        footerHeading = "%nExit codes:%n",
        footer = {"  0  success: Y (and the gradients asked for) written",
            "  1  a file cannot be read or written (no output is written)",
            "  2  invalid option, configuration or input file content (no output is written)",
            "", "Examples:",
            "  convcl conv --input x.npy --kernel k.npy --padding=-2:1,0:-3 --output y.npy",
            "  convcl conv --input x.npy --kernel k.npy --bias b.npy --output y.npy \\",
            "      --cotangent ct.npy --grad-input dx.npy --grad-kernel dk.npy --grad-bias db.npy"})
final class ConvCommand implements Callable<Integer> {

    @Option(names = "--input", required = true, paramLabel = "X.npy",
            description = "Input (*batch, *spatial, Cin).")
    private Path input;

    @Option(names = "--kernel", required = true, paramLabel = "K.npy",
            description = "Kernel (*k, Cin/G, Cout); its rank minus 2 is the number of spatial dims n.")
    private Path kernel;

    @Option(names = "--bias", paramLabel = "B.npy", description = "Bias (Cout), added to every output "
            + "position. Default: no bias.")
    private Path bias;

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

    @Option(names = "--kernel-dilation", paramLabel = "D", defaultValue = "1",
            description = "rhs dilation: D-1 gaps between kernel taps; one int or n comma-separated ints. "
                    + "Default: ${DEFAULT-VALUE}.")
    private String kernelDilation;

    @Option(names = "--groups", paramLabel = "G", defaultValue = "1",
            description = "Feature groups; Cin and Cout must be multiples of G. Default: ${DEFAULT-VALUE}.")
    private int groups;

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
        ConvSpec spec = ConvSpec.builder()
                .strides(PerDimInts.parse("--strides", strides))
                .padding(Padding.parse(padding))
                .inputDilation(PerDimInts.parse("--input-dilation", inputDilation))
                .kernelDilation(PerDimInts.parse("--kernel-dilation", kernelDilation))
                .groups(groups)
                .build();
        BackendChoice choice = BackendChoice.parse(backend);

        Tensor x = InputFiles.read("--input", input);
        Tensor k = InputFiles.read("--kernel", kernel);
        Tensor b = InputFiles.readIfGiven("--bias", bias);
        Tensor m = InputFiles.readIfGiven("--mask", mask);

        // Validate everything flax would refuse with the Java backend, which holds nothing, so that no
        // device is touched (and nothing logged) for a configuration that is refused anyway.
        int[] outputShape = layer(k, b, m, spec, CpuBackend.instance()).geometry(x.shape()).outputShape();
        Tensor ct = gradients.requested() ? gradients.readCotangent(outputShape) : null;
        OutputFiles outputs = new OutputFiles();
        outputs.declare("--output", output);
        gradients.declareOutputs(outputs);

        Conv layer = layer(k, b, m, spec, Backends.select(choice));
        outputs.put("--output", layer.apply(x));
        if (ct != null) {
            gradients.putGradients(outputs, layer.backward(x, ct));
        }
        outputs.writeAll();
        return Main.EXIT_OK;
    }

    private static Conv layer(Tensor k, Tensor b, Tensor m, ConvSpec spec, ConvBackend backend) {
        return Conv.builder(k).bias(b).mask(m).spec(spec).backend(backend).build();
    }
}
