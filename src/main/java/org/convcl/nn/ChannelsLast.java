package org.convcl.nn;

import java.util.function.BiFunction;
import org.convcl.Tensor;
import org.convcl.internal.KernelLayout;
import org.convcl.opencl.DeviceTensor;
import org.convcl.opencl.OpenClBackend;

/**
 * flax's {@link org.convcl.Layout#CHANNELS_LAST} boundary: the user's layout is the engine's, so nothing moves.
 * A ConvTranspose with {@code transposeKernel} ({@code flipSwappedKernel}) uploads its kernel flipped and
 * channel-swapped on the host, in the layout its convolution multiplies by. Immutable and thread-safe.
 *
 * @param flipSwappedKernel whether the held kernel is the flip-swap of the one the convolution multiplies by
 */
record ChannelsLast(boolean flipSwappedKernel) implements LayerLayout {
    @Override
    public <G> G resolve(int[] inputShape, int[] kernelShape, int groups, BiFunction<int[], int[], G> resolve) {
        return resolve.apply(inputShape, kernelShape);
    }

    @Override
    public int[] userShape(int[] internalShape) {
        return internalShape;
    }

    @Override
    public boolean isIdentity() {
        return true;
    }

    @Override
    public float[] toInternal(float[] values, int[] userShape) {
        return values;
    }

    @Override
    public Tensor toUser(float[] values, int[] internalShape) {
        return Tensor.of(values, internalShape);
    }

    @Override
    public float[] kernelToInternal(float[] values) {
        return values;
    }

    @Override
    public float[] kernelToUser(float[] values) {
        return values;
    }

    @Override
    public void run(OpenClBackend device, DeviceTensor x, DeviceTensor residual, DeviceTensor out,
            int[] internalOutputShape, ForwardCall call) {
        call.run(x, residual, out);
    }

    @Override
    public DeviceGradients backward(OpenClBackend device, DeviceTensor x, DeviceTensor residual, DeviceTensor dy,
            BackwardPass pass) {
        return pass.run(x, residual, dy);
    }

    @Override
    public DeviceParameters.Arrangements arrangements() {
        return DeviceParameters.Arrangements.AS_UPLOADED;
    }

    @Override
    public Tensor residentKernel(float[] effective, int[] kernelShape) {
        if (!flipSwappedKernel) {
            return Tensor.of(effective, kernelShape);
        }
        return Tensor.of(KernelLayout.flipSwap(effective, kernelShape, 1), KernelLayout.flipSwapShape(kernelShape, 1));
    }

    @Override
    public String describe() {
        return "";
    }
}
