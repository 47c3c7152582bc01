package org.convcl.nn;

import java.util.Arrays;
import org.convcl.Activation;
import org.convcl.Tensor;

/**
 * A layer's own epilogue parts, as its builder collected them: per-output-channel {@code scale} and {@code shift}
 * (each null for none) and the {@code activation} (never null). A call's residual is not among them: it comes with
 * each call. Immutable as a record (its tensors are held by reference, like the layer's other parameters).
 */
record EpilogueParameters(Tensor scale, Tensor shift, Activation activation) {
    /** No epilogue: the convolution's output as it is. */
    static final EpilogueParameters NONE = new EpilogueParameters(null, null, Activation.identity());

    /**
     * The parts, checked against {@code outChannels} output channels: {@code scale} and {@code shift} must be 1-d of
     * that length; refusals name the part, its shape and the rule.
     */
    static EpilogueParameters checked(Tensor scale, Tensor shift, Activation activation, int outChannels) {
        perChannel("scale", scale, outChannels);
        perChannel("shift", shift, outChannels);
        return new EpilogueParameters(scale, shift, activation);
    }

    private static void perChannel(String name, Tensor values, int outChannels) {
        if (values != null && (values.rank() != 1 || values.dim(0) != outChannels)) {
            throw new IllegalArgumentException(name + ": shape " + Arrays.toString(values.shape()) + " does not "
                    + "match " + outChannels + " output channels; " + name + " holds one value per output channel, "
                    + "so its shape must be (Cout) = [" + outChannels + "]");
        }
    }
}
