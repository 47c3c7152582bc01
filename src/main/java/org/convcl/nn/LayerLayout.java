package org.convcl.nn;

import java.util.function.BiFunction;
import org.convcl.Tensor;
import org.convcl.opencl.DeviceTensor;
import org.convcl.opencl.OpenClBackend;

/**
 * A layer's boundary between the user's layout and the channels-last order the engine computes in, chosen once
 * when the layer is built: {@link ChannelsLast} (the identity) or {@link ChannelsFirst} (axis moves, on the host or
 * on the device). The layer core states every call once, in channels-last terms, and lets this translate.
 * Implementations are immutable and thread-safe.
 */
interface LayerLayout {
    /**
     * The geometry of {@code resolve} for a user's {@code inputShape} and the layer's {@code kernelShape} (both in
     * the user's layout), after the refusals that concern the layout; {@code groups} are the convolution's feature
     * groups, which a channels-first input's channel count is checked against.
     */
    <G> G resolve(int[] inputShape, int[] kernelShape, int groups, BiFunction<int[], int[], G> resolve);

    /** A channels-last shape of the engine's as the user's layout has it. */
    int[] userShape(int[] internalShape);

    /** Whether every tensor is used as it is: no axis moves, so host arrays can stream to a device untouched. */
    boolean isIdentity();

    /** {@code values} of a user-layout shape, in channels-last order ({@code values} itself when nothing moves). */
    float[] toInternal(float[] values, int[] userShape);

    /** Channels-last {@code values} of {@code internalShape} as a tensor in the user's layout. */
    Tensor toUser(float[] values, int[] internalShape);

    /** The (masked) kernel, or the mask, as the user holds it, in the layer's channels-last layout. */
    float[] kernelToInternal(float[] values);

    /** A kernel gradient in the layer's channels-last layout, in the user's. */
    float[] kernelToUser(float[] values);

    /** A forward call on channels-last device tensors; {@code residual} may be null. */
    interface ForwardCall {
        void run(DeviceTensor x, DeviceTensor residual, DeviceTensor out);
    }

    /** A backward pass on channels-last device tensors; {@code residual} may be null. */
    interface BackwardPass {
        DeviceGradients run(DeviceTensor x, DeviceTensor residual, DeviceTensor dy);
    }

    /**
     * Runs {@code call} on {@code x}, {@code residual} (output-shaped, or null) and {@code out} moved to
     * channels-last device tensors ({@code out} of {@code internalOutputShape} there), and moves the output back
     * into {@code out}. Enqueues and returns.
     */
    void run(OpenClBackend device, DeviceTensor x, DeviceTensor residual, DeviceTensor out,
            int[] internalOutputShape, ForwardCall call);

    /**
     * A backward pass on device tensors in the user's layout, run by {@code pass} on channels-last ones; the
     * residual (or null) and its gradient are output-shaped.
     */
    DeviceGradients backward(OpenClBackend device, DeviceTensor x, DeviceTensor residual, DeviceTensor dy,
            BackwardPass pass);

    /** How the kernel and the mask, uploaded as the layer holds them, become its device copies. */
    DeviceParameters.Arrangements arrangements();

    /**
     * The masked kernel {@code effective} of the held {@code kernelShape} as a device receives it: in the layout
     * its convolution multiplies by, or as held when {@link #arrangements()} rearrange it on the device.
     */
    Tensor residentKernel(float[] effective, int[] kernelShape);

    /** The layout's part of a layer's description in messages: empty, or ", channels-first". */
    String describe();
}
