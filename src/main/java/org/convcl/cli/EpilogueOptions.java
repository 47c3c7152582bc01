package org.convcl.cli;

import java.nio.file.Path;
import java.util.Arrays;
import org.convcl.Activation;
import org.convcl.Tensor;
import picocli.CommandLine.Option;

/**
 * The fused epilogue that {@code conv} and {@code conv-transpose} take alike, a picocli mixin declared after
 * {@code --bias} (see {@link LayerCommand}): {@code Y = act(conv * S + T + R)}, every part optional. S and T are read
 * with the other operands, R once the output's shape is known (its shape must be Y's); the activation is parsed with
 * the settings, before any file is read.
 */
final class EpilogueOptions {
    static final String SCALE = "--scale";
    static final String SHIFT = "--shift";
    static final String RESIDUAL = "--residual";
    static final String ACTIVATION = "--activation";

    @Option(names = SCALE, paramLabel = "S.npy", description = "Per-output-channel factors (Cout) multiplied "
            + "into the convolution's output (bias included): a batch norm folded for inference. Default: none.")
    private Path scale;

    @Option(names = SHIFT, paramLabel = "T.npy", description = "Per-output-channel offsets (Cout) added after "
            + "--scale. Default: none.")
    private Path shift;

    @Option(names = RESIDUAL, paramLabel = "R.npy", description = "A tensor of Y's shape (and layout) added "
            + "before the activation: a skip connection. Default: none.")
    private Path residual;

    @Option(names = ACTIVATION, paramLabel = "NAME[:P]", defaultValue = "identity",
            description = "Applied last, as jax.nn defines it: identity, relu, relu6, leaky_relu[:SLOPE] (0.01), "
                    + "elu[:ALPHA] (1), gelu (erf), gelu_tanh (jax.nn.gelu's default), silu, sigmoid, tanh, "
                    + "hard_swish. Default: ${DEFAULT-VALUE}.")
    private String activation;

    private Activation parsed;
    private Tensor scaleTensor;
    private Tensor shiftTensor;

    /** Parses {@code --activation}; refused (exit 2) naming the option, the value and what is accepted. */
    void parseSettings() {
        try {
            parsed = Activation.parse(activation);
        } catch (IllegalArgumentException e) {
            // Activation's messages start with "activation: "; the option is "--activation".
            throw new IllegalArgumentException("--" + e.getMessage(), e);
        }
    }

    boolean hasScale() {
        return scale != null;
    }

    boolean hasShift() {
        return shift != null;
    }

    boolean hasResidual() {
        return residual != null;
    }

    /** Reads S and T (when given), after the layer's other operands: float32 in every --dtype, as layers keep them. */
    void readOperands(InputFiles files) {
        scaleTensor = files.readFloat32IfGiven(SCALE, scale);
        shiftTensor = files.readFloat32IfGiven(SHIFT, shift);
    }

    /** R, checked against Y's shape (exit 2 naming both), or null when none was given. */
    Tensor readResidual(InputFiles files, int[] outputShape) {
        Tensor r = files.readIfGiven(RESIDUAL, residual);
        if (r != null && !Arrays.equals(r.shape(), outputShape)) {
            throw new IllegalArgumentException(RESIDUAL + " " + residual + ": shape " + Arrays.toString(r.shape())
                    + " differs from the output's shape " + Arrays.toString(outputShape)
                    + "; the residual is added to Y and must have Y's shape");
        }
        return r;
    }

    Activation activation() {
        return parsed;
    }

    Tensor scale() {
        return scaleTensor;
    }

    Tensor shift() {
        return shiftTensor;
    }
}
