package org.convcl.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.convcl.DType;
import org.convcl.Layout;
import org.convcl.Padding;
import org.convcl.PoolOp;
import org.convcl.PoolSpec;
import org.convcl.Tensor;
import org.convcl.backend.BackendChoice;
import org.convcl.backend.ConvBackend;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.nn.Backends;
import org.convcl.nn.Pool;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code convcl pool}: one pooling from a {@code .npy} file to a {@code .npy} file, as flax's {@code max_pool},
 * {@code avg_pool} and {@code min_pool} compute it, and on request its backward pass. It keeps the order of
 * {@link LayerRun}, which is the CLI's contract: every setting and input is checked before a backend is chosen
 * or anything is computed, and the outputs are written last, all or none ({@link OutputFiles}).
 */
@Command(name = "pool", mixinStandardHelpOptions = true, sortOptions = false, sortSynopsis = false,
        usageHelpWidth = 100,
        versionProvider = Version.class,
        header = "Pools X over a window as flax's max_pool, avg_pool and min_pool do.",
        description = {"",
            "X is (*batch, *spatial, C) with zero, one or several batch dims; the window's length gives the number "
                + "n of spatial dims; Y is (*batch, *out_spatial, C), each channel pooled on its own. With --layout "
                + "channels-first: X (*batch, C, *spatial), Y (*batch, C, *out_spatial).",
            "With --cotangent CT, also writes the gradient of sum(Y * CT) with respect to X, as jax differentiates "
                + "the pooling.",
            LayerCommand.FILE_FORMATS,
            ""},
        footerHeading = "%nExit codes:%n",
        footer = {LayerCommand.EXIT_CODES,
            "", "Examples:",
            "  convcl pool --op max --input x.npy --window 2,2 --strides 2,2 --output y.npy",
            "  convcl pool --op avg --input x.npy --window 3,3 --padding SAME --count-include-pad false \\",
            "      --output y.npy --cotangent ct.npy --grad-input dx.npy"})
final class PoolCommand implements Callable<Integer> {

    @Option(names = "--op", required = true, paramLabel = "max|avg|min",
            description = "The reduction over each window (any letter case): max (padding counts as -inf), avg "
                    + "(the mean; see --count-include-pad) or min (padding counts as +inf).")
    private String op;

    @Mixin
    private InputOption input;

    @Option(names = "--window", required = true, paramLabel = "W",
            description = "The window's size per spatial dim, n comma-separated ints (its length is n).")
    private String window;

    @Option(names = "--strides", paramLabel = "S", defaultValue = "1",
            description = "One int for every spatial dim, or n comma-separated ints. Default: ${DEFAULT-VALUE}.")
    private String strides;

    @Option(names = "--padding", paramLabel = "P", defaultValue = "VALID",
            description = {"VALID | SAME (any letter case); or one int (both sides of every dim); or n "
                + "comma-separated entries, each p (both sides) or lo:hi; none negative. Default: ${DEFAULT-VALUE}."})
    private String padding;

    @Option(names = "--count-include-pad", arity = "1", paramLabel = "true|false",
            description = "Only with --op avg: whether padding counts in the divisor (flax's count_include_pad). "
                    + "Default: true.")
    private Boolean countIncludePad;

    @Option(names = "--layout", paramLabel = "channels-last|channels-first", defaultValue = "channels-last",
            description = "Where the channels are: channels-last (flax's) or channels-first (PyTorch's and ONNX's: "
                    + "X is (*batch, C, *spatial), Y and dX likewise). Default: ${DEFAULT-VALUE}.")
    private String layout;

    @Option(names = "--dtype", paramLabel = "float32|float16|bfloat16", defaultValue = "float32",
            description = "The type the pooling computes in: float32, float16 (X and CT must be float16 files, "
                    + "'<f2' or '>f2'; Y and dX are written as '<f2') or bfloat16 (X and CT are float32 or float64 "
                    + "files, rounded to bfloat16; Y and dX are float32 files holding bfloat16 values exactly). Max "
                    + "and min pick an input value; avg and the gradient sum in float32 and round once to the type. "
                    + "Default: ${DEFAULT-VALUE}.")
    private String dtype;

    @Mixin
    private BackendOption backend;

    @Option(names = "--output", required = true, paramLabel = "Y.npy",
            description = "Where to write Y (*batch, *out_spatial, C); replaced atomically.")
    private Path output;

    @ArgGroup(exclusive = false, validate = false, heading = "%nBackward pass (gradient of sum(Y * CT)):%n")
    private PoolGradientOutputs gradientGroup;

    @Spec
    private CommandSpec command;

    @Override
    public Integer call() {
        PoolGradientOutputs gradient = PoolGradientOutputs.orNone(gradientGroup);
        gradient.checkCombination(command.commandLine());
        PoolOp poolOp = parseOp(op);
        if (countIncludePad != null && poolOp != PoolOp.AVG) {
            // Refused rather than ignored: a max or min pool has no divisor, so the flag would mean nothing.
            throw new IllegalArgumentException("--count-include-pad: given with --op " + op + "; it applies only to "
                    + "--op avg (flax's avg_pool)");
        }
        PoolSpec spec = PoolSpec.builder()
                .window(PerDimInts.parse("--window", window))
                .strides(PerDimInts.parse("--strides", strides))
                .padding(Padding.parse(padding))
                .countIncludePad(countIncludePad == null || countIncludePad)
                .build();
        Layout chosenLayout = LayoutOption.parse(layout);
        DType chosenDType = DTypeOption.parse(dtype);
        BackendChoice choice = backend.parse();

        InputFiles files = new InputFiles(chosenDType);
        Tensor x = input.read(files);
        // Checked on the Java backend, which holds nothing, so that no device is touched for a refused input.
        int[] outputShape = pool(poolOp, spec, chosenLayout, CpuBackend.instance()).outputShape(x.shape());
        Tensor ct = gradient.requested() ? gradient.readCotangent(files, outputShape) : null;
        // Declared after every input is read, so that an output naming one of them is refused.
        OutputFiles outputs = new OutputFiles(files.paths());
        outputs.declare("--output", output);
        gradient.declareOutputs(outputs);

        Pool pool = pool(poolOp, spec, chosenLayout, Backends.select(choice));
        outputs.putStored("--output", chosenDType, PoolingRun.forward(pool, chosenDType, x));
        if (ct != null) {
            gradient.putGradient(outputs, chosenDType, PoolingRun.backward(pool, chosenDType, x, ct));
        }
        outputs.writeAll();
        return Main.EXIT_OK;
    }

    private static Pool pool(PoolOp op, PoolSpec spec, Layout layout, ConvBackend backend) {
        return Pool.builder(op, spec).layout(layout).backend(backend).build();
    }

    /** The op named, in any letter case; anything else is refused naming the option and the choices. */
    private static PoolOp parseOp(String text) {
        String name = text == null ? "" : text.trim();
        for (PoolOp candidate : PoolOp.values()) {
            if (candidate.name().equalsIgnoreCase(name)) {
                return candidate;
            }
        }
        throw new IllegalArgumentException("--op: got '" + text + "'; expected max, avg or min");
    }
}
