package org.convcl.backend.internal;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntFunction;
import org.convcl.AdjointGeometry;
import org.convcl.ConvGeometry;
import org.convcl.EdgeMode;
import org.convcl.EdgePadding;
import org.convcl.Epilogue;

/**
 * A layer's backward pass on any storage ({@link ConvOps}), written once for the host and the device paths: for a
 * transposed convolution's CIRCULAR padding, {@code dy} unwrapped back to the convolution's output (the pad, the
 * adjoint of the wrap-around sum); the input gradient as a forward convolution on the
 * {@link AdjointGeometry adjoint geometry} with the kernel flipped and channel-swapped (then folded for wrap-around
 * and mirrored padding); the kernel gradient as a reduction, flipped back to the held layout when the layer holds
 * it flipped, then masked; the bias gradient as a reduction of {@code dy}. With an {@link Epilogue}
 * ({@link #run(ConvOps, ConvStep, Object, Object, Object, Epilogue, Object, IntFunction, Object, boolean)}), the
 * convolution's output is recomputed from {@code x} first (nothing is kept from the forward pass) and the epilogue's
 * backward turns {@code dy} into the convolution's cotangent, which then goes through the steps above. Stateless.
 */
public final class BackwardRecipe {
    private BackwardRecipe() {
    }

    /**
     * The gradients, in the convolution's (channels-last) layouts; {@code dbias} null when not asked for, and
     * {@code dscale}, {@code dshift}, {@code dresidual} null when the epilogue has no such part.
     */
    public record Gradients<T>(T dx, T dkernel, T dbias, T dscale, T dshift, T dresidual) {
        /** Gradients without an epilogue's. */
        public Gradients(T dx, T dkernel, T dbias) {
            this(dx, dkernel, dbias, null, null, null);
        }
    }

    /**
     * The gradients of {@code sum(epilogue(step(x, kernel) + bias) * dy)}, as jax differentiates
     * {@code act(conv * scale + shift + residual)}: the layer's output before the epilogue is recomputed from
     * {@code x} ({@link ForwardRecipe} with {@link Epilogue#none()}, so a CIRCULAR transpose's fold and its bias
     * included), {@link ConvOps#epilogueGradient} gives {@code dz} (the residual's gradient, whose column sums are
     * the shift's), {@code dz * conv} (whose column sums are the scale's) and the convolution's cotangent, which
     * {@link #run(ConvOps, ConvStep, Object, Object, IntFunction, Object, boolean) the plain recipe} takes as its
     * {@code dy}. {@code kernel} is what the convolution multiplies by (masked); the epilogue's residual is
     * channels-last like {@code x}. The returned storage is the caller's; on a failure, what was made is released.
     */
    public static <T> Gradients<T> run(ConvOps<T> ops, ConvStep step, T x, T kernel, T bias, Epilogue<T> epilogue,
            T dy, IntFunction<T> flippedKernel, T mask, boolean withBias) {
        if (epilogue == null || epilogue.isNone()) {
            return run(ops, step, x, dy, flippedKernel, mask, withBias);
        }
        int[] outputShape = step.outputShape();
        int channels = outputShape[outputShape.length - 1];
        boolean withScale = epilogue.scale() != null;
        boolean keepDz = epilogue.residual() != null;
        List<T> temporaries = new ArrayList<>();
        T dz = null;
        T dscale = null;
        T dshift = null;
        try {
            T conv = keep(temporaries, ops.allocate(outputShape));
            ForwardRecipe.run(ops, step, x, kernel, bias, Epilogue.none(), conv);
            dz = ops.allocate(outputShape);
            if (!keepDz) {
                temporaries.add(dz);
            }
            T dzConv = withScale ? keep(temporaries, ops.allocate(outputShape)) : null;
            // Without a scale the convolution's cotangent is dz itself (HostEpilogue.gradient allows the alias).
            T dconv = withScale ? keep(temporaries, ops.allocate(outputShape)) : dz;
            ops.epilogueGradient(epilogue, channels, conv, dy, dz, dzConv, dconv);
            dscale = withScale ? biasGradient(ops, dzConv, channels) : null;
            dshift = epilogue.shift() != null ? biasGradient(ops, dz, channels) : null;
            Gradients<T> convGradients = run(ops, step, x, dconv, flippedKernel, mask, withBias);
            return new Gradients<>(convGradients.dx(), convGradients.dkernel(), convGradients.dbias(), dscale, dshift,
                    keepDz ? dz : null);
        } catch (RuntimeException e) {
            for (T made : Arrays.asList(keepDz ? dz : null, dscale, dshift)) {
                if (made != null) {
                    ops.release(made);
                }
            }
            throw e;
        } finally {
            // Released once enqueued, still safe on a device: it keeps a buffer until the work using it is done.
            temporaries.forEach(ops::release);
        }
    }

    /**
     * The gradients of {@code sum(step(x, kernel) * dy)}. {@code flippedKernel} gives the kernel the convolution
     * multiplies by, masked, as {@code KernelLayout.flipSwap} with the given groups (a device keeps it resident);
     * {@code mask} (in the held kernel's layout) masks the kernel gradient when not null; there is a bias gradient
     * when {@code withBias}. The returned storage is the caller's; on a failure, what was made is released.
     */
    public static <T> Gradients<T> run(ConvOps<T> ops, ConvStep step, T x, T dy, IntFunction<T> flippedKernel,
            T mask, boolean withBias) {
        ConvGeometry conv = step.conv();
        List<T> made = new ArrayList<>();
        T unwrapped = null;
        try {
            T convGradient = dy;
            if (step.outputFold() != null) {
                unwrapped = ops.allocate(conv.outputShape());
                ops.pad(step.outputFold(), dy, unwrapped);
                convGradient = unwrapped;
            }
            T dx = keep(made, inputGradient(ops, conv, flippedKernel.apply(conv.groups()), convGradient));
            T dkernel = keep(made, kernelGradient(ops, conv, x, convGradient));
            if (step.kernelFlipSwapped()) {
                // Back from the convolution's layout to the held one: flipSwap is its own inverse.
                T held = keep(made, ops.flipSwapped(dkernel, conv.kernelShape(), 1));
                made.remove(dkernel);
                ops.release(dkernel);
                dkernel = held;
            }
            if (mask != null) {
                ops.multiplyInPlace(dkernel, mask);
            }
            T dbias = withBias ? keep(made, biasGradient(ops, dy, conv.outChannels())) : null;
            return new Gradients<>(dx, dkernel, dbias);
        } catch (RuntimeException e) {
            made.forEach(ops::release);
            throw e;
        } finally {
            if (unwrapped != null) {
                ops.release(unwrapped);
            }
        }
    }

    /** dx of {@code sum(conv(x, kernel) * dy)} for geometry {@code g}, given the kernel flipped for the adjoint. */
    private static <T> T inputGradient(ConvOps<T> ops, ConvGeometry g, T flipped, T dy) {
        ConvGeometry valid = AdjointGeometry.paddedInput(g);
        ConvGeometry adjoint = AdjointGeometry.inputGradient(valid);
        if (!Arrays.equals(adjoint.outputShape(), valid.inputShape())) {
            throw new AssertionError("adjoint " + adjoint + " does not reproduce the input of " + valid);
        }
        if (g.edgeMode() == EdgeMode.ZERO) {
            T dx = ops.allocate(g.inputShape());
            return produce(ops, dx, () -> ops.forward(adjoint, dy, flipped, null, dx));
        }
        T padded = ops.allocate(valid.inputShape());
        try {
            ops.forward(adjoint, dy, flipped, null, padded);
            T dx = ops.allocate(g.inputShape());
            return produce(ops, dx, () -> ops.fold(EdgePadding.ofInput(g), padded, null, dx));
        } finally {
            ops.release(padded);
        }
    }

    /** dK of {@code sum(conv(x, K) * dy)}, in the geometry's kernel layout {@code (*k, Cin/groups, Cout)}. */
    private static <T> T kernelGradient(ConvOps<T> ops, ConvGeometry g, T x, T dy) {
        T dkernel = ops.allocate(g.kernelShape());
        return produce(ops, dkernel, () -> ops.kernelGradient(g, x, dy, dkernel));
    }

    private static <T> T biasGradient(ConvOps<T> ops, T dy, int channels) {
        T dbias = ops.allocateBiasGradient(channels);
        return produce(ops, dbias, () -> ops.biasGradient(dy, channels, dbias));
    }

    /** Runs {@code work} into {@code result} and returns it, or releases it when the work fails. */
    private static <T> T produce(ConvOps<T> ops, T result, Runnable work) {
        try {
            work.run();
            return result;
        } catch (RuntimeException e) {
            ops.release(result);
            throw e;
        }
    }

    private static <T> T keep(List<T> made, T tensor) {
        made.add(tensor);
        return tensor;
    }
}
