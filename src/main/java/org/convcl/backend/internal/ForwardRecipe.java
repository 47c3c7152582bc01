package org.convcl.backend.internal;

import org.convcl.ConvGeometry;
import org.convcl.EdgePadding;
import org.convcl.Epilogue;

/**
 * A layer's forward pass on any storage ({@link ConvOps}): the convolution of its {@link ConvStep}, with the bias,
 * or, for a transposed convolution's CIRCULAR padding, without it into an unwrapped output that the wrap-around
 * sum folds onto the layer's output, adding the bias there. Stateless.
 */
public final class ForwardRecipe {
    private ForwardRecipe() {
    }

    /** {@code output = step(input, kernel) + bias}; {@code kernel} is what the convolution multiplies by. */
    public static <T> void run(ConvOps<T> ops, ConvStep step, T input, T kernel, T bias, T output) {
        run(ops, step, input, kernel, bias, Epilogue.none(), output);
    }

    /**
     * {@code output = epilogue(step(input, kernel) + bias)}: the epilogue in the store of the step's last
     * operation, the convolution's or, with a wrap-around fold, the fold's.
     */
    public static <T> void run(ConvOps<T> ops, ConvStep step, T input, T kernel, T bias, Epilogue<T> epilogue,
            T output) {
        ConvGeometry conv = step.conv();
        EdgePadding fold = step.outputFold();
        if (fold == null) {
            ops.forward(conv, input, kernel, bias, epilogue, output);
            return;
        }
        T unwrapped = ops.allocate(conv.outputShape());
        try {
            ops.forward(conv, input, kernel, null, unwrapped);
            ops.fold(fold, unwrapped, bias, epilogue, output);
        } finally {
            // Released now, still safe on a device: it keeps a buffer until the work enqueued with it is done.
            ops.release(unwrapped);
        }
    }
}
