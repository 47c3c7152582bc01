package org.convcl.nn;

import org.convcl.Tensor;
import org.convcl.EdgePadding;
import org.convcl.EdgeMode;
import org.convcl.ConvGeometry;
import org.convcl.AdjointGeometry;
import java.util.Arrays;
import org.convcl.backend.ConvBackend;
import org.convcl.internal.KernelLayout;

/**
 * The backward pass of a convolution on host arrays, assembled from backend operations: the input gradient
 * through {@link ConvBackend#forward} on the {@link AdjointGeometry adjoint geometry} (then
 * {@link ConvBackend#fold} for wrap-around and mirrored padding), the kernel and bias gradients through their
 * reductions. The path of the CPU backend (and of any other backend that is not OpenCL), whose native memory
 * host arrays are; an OpenCL backend runs {@link DeviceBackward} instead, on host tensors too, so that there is
 * one path per device. Shared by {@link Conv} and {@link ConvTranspose}, which also use its argument checks on
 * every backend. Stateless.
 */
final class ConvBackward {
    private ConvBackward() {
    }

    /**
     * dx of {@code sum(conv(x, kernel) * dy)} for geometry {@code g}, where {@code kernel} is what the
     * convolution multiplies by (already masked).
     */
    static float[] inputGradient(ConvBackend backend, ConvGeometry g, float[] kernel, float[] dy) {
        ConvGeometry valid = AdjointGeometry.paddedInput(g);
        ConvGeometry adjoint = AdjointGeometry.inputGradient(valid);
        if (!Arrays.equals(adjoint.outputShape(), valid.inputShape())) {
            throw new AssertionError("adjoint " + adjoint + " does not reproduce the input of " + valid);
        }
        float[] flipped = KernelLayout.flipSwap(kernel, g.kernelShape(), g.groups());
        float[] paddedGradient = new float[(int) Tensor.elementCount(adjoint.outputShape())];
        backend.forward(adjoint, dy, flipped, null, paddedGradient);
        if (g.edgeMode() == EdgeMode.ZERO) {
            return paddedGradient;
        }
        float[] dx = new float[(int) Tensor.elementCount(g.inputShape())];
        backend.fold(EdgePadding.ofInput(g), paddedGradient, null, dx);
        return dx;
    }

    /** dK of {@code sum(conv(x, K) * dy)}, in the geometry's kernel layout {@code (*k, Cin/groups, Cout)}. */
    static float[] kernelGradient(ConvBackend backend, ConvGeometry g, float[] x, float[] dy) {
        float[] dkernel = new float[(int) Tensor.elementCount(g.kernelShape())];
        backend.kernelGradient(g, x, dy, dkernel);
        return dkernel;
    }

    /** dbias: the sum of a channels-last output gradient with {@code channels} channels over everything else. */
    static float[] biasGradient(ConvBackend backend, int channels, float[] dy) {
        float[] dbias = new float[channels];
        backend.biasGradient(channels == 0 ? 0 : dy.length / channels, channels, dy, dbias);
        return dbias;
    }

    /** Refuses a cotangent whose shape is not the output shape the input gives. */
    static void checkCotangent(Tensor dy, int[] outputShape, int[] inputShape) {
        if (dy == null) {
            throw new IllegalArgumentException("dy: got null; expected the output gradient of shape "
                    + Arrays.toString(outputShape));
        }
        if (!Arrays.equals(dy.shape(), outputShape)) {
            throw new IllegalArgumentException("dy: shape " + Arrays.toString(dy.shape()) + " differs from the output "
                    + "shape " + Arrays.toString(outputShape) + " this layer gives for input "
                    + Arrays.toString(inputShape) + "; the output gradient must have the output's shape");
        }
    }

    static void checkInput(Tensor x) {
        if (x == null) {
            throw new IllegalArgumentException("x: got null; expected an input tensor (*batch, *spatial, Cin)");
        }
    }
}
