package org.convcl.opencl.internal.plan;

import java.util.Objects;
import org.convcl.Activation;
import org.convcl.opencl.internal.runtime.BuildOptions;

/**
 * The build options that select an {@link Activation} in {@code kernels/activation.cl}, the shared file compiled in
 * front of every kernel that applies or differentiates an epilogue. Stateless.
 */
public final class ActivationOptions {
    /** The file that defines {@code activation_apply} and {@code activation_derivative}. */
    public static final String SOURCE = "activation.cl";

    private ActivationOptions() {
    }

    /**
     * Adds {@code ACTIVATION} (the kind's code) and {@code ACTIVATION_PARAM} (its parameter as an exact float
     * literal, so that the kernel multiplies by the very float the Java path does) to {@code options}.
     */
    public static BuildOptions define(BuildOptions options, Activation activation) {
        Objects.requireNonNull(activation, "activation");
        return options.define("ACTIVATION", activation.kind().code())
                .define("ACTIVATION_PARAM", activation.parameter());
    }

    /** What tells programs of different activations apart in a plan key: {@code leaky_relu(0x1.99999ap-3)}. */
    public static String key(Activation activation) {
        return activation.kind().label() + "(" + Float.toHexString(activation.parameter()) + ")";
    }
}
