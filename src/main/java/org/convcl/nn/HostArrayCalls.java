package org.convcl.nn;

import org.convcl.DType;
import org.convcl.Tensor;
import org.convcl.backend.ConvBackend;
import org.convcl.backend.internal.BackwardRecipe;
import org.convcl.backend.internal.ConvStep;
import org.convcl.backend.internal.ForwardRecipe;
import org.convcl.opencl.DeviceTensor;
import org.convcl.opencl.OpenClBackend;

/**
 * How a layer's host-tensor calls run, decided once per layer from its backend ({@link #choose}): on the host
 * arrays themselves through the backend's host-array operations (the Java path), or, on an OpenCL backend, through
 * the device with the operands and the parameters' current values uploaded for the call. Either way the layer's
 * epilogue runs fused, in the store of the step's last operation. Implementations are immutable and thread-safe.
 *
 * <p>A float16 or bfloat16 layer's host calls take and give float32 tensors holding its rounded values: the operands
 * are rounded to the layer's type, the call computes as its device calls do, and the results (in the type; dbias
 * float32) come back widened. On a device that is the device pass on operands uploaded in the type; on the Java
 * path, {@link HalfOnHost}.
 */
interface HostArrayCalls {
    /** {@code core}'s forward pass of {@code step} on {@code x} with {@code residual} (or null), in the layer's layout. */
    Tensor apply(LayerCore<?> core, ConvStep step, Tensor x, Tensor residual);

    /**
     * The same forward pass written into {@code out} (checked: the output's shape in the layer's layout, another
     * array than x's; it may be the residual's, read in full before {@code out} is written). This form copies a
     * new output into {@code out}; the Java path overrides it to write there directly, where the backend's
     * forward reads an in-place residual before writing over it ({@code ConvBackend.forward}).
     */
    default void apply(LayerCore<?> core, ConvStep step, Tensor x, Tensor residual, Tensor out) {
        float[] values = apply(core, step, x, residual).data();
        System.arraycopy(values, 0, out.data(), 0, values.length);
    }

    /** {@code core}'s gradients of {@code sum(apply(x, residual) * dy)} (in the layer's layout). */
    ConvGradients backward(LayerCore<?> core, ConvStep step, Tensor x, Tensor residual, Tensor dy);

    /**
     * The one place where a layer's residency is chosen: its backend's kind and, on a device, its layout and its
     * compute type (the streamed forward takes float32 host arrays only).
     */
    static HostArrayCalls choose(ConvBackend backend, LayerLayout layout, DType dtype) {
        if (!(backend instanceof OpenClBackend device)) {
            return dtype == DType.FLOAT32 ? new OnHost(new HostConvOps(backend)) : new HalfOnHost(backend);
        }
        return layout.isIdentity() && dtype == DType.FLOAT32 ? new Streamed(device, new OnHost(new HostConvOps(device)))
                : new Uploaded(device);
    }

    /** The recipes on host arrays through {@code ops}: the layout's moves on the host around them. */
    record OnHost(HostConvOps ops) implements HostArrayCalls {
        @Override
        public Tensor apply(LayerCore<?> core, ConvStep step, Tensor x, Tensor residual) {
            float[] output = ops.allocate(step.outputShape());
            forward(core, step, x, residual, output);
            return core.layout().toUser(output, step.outputShape());
        }

        /**
         * Channels-last, the backend writes straight into {@code out}'s array; channels-first computes in a
         * channels-last scratch array and moves it into {@code out}, the one copy the layout costs anyway.
         */
        @Override
        public void apply(LayerCore<?> core, ConvStep step, Tensor x, Tensor residual, Tensor out) {
            LayerLayout layout = core.layout();
            if (layout.isIdentity()) {
                forward(core, step, x, residual, out.data());
                return;
            }
            float[] output = ops.allocate(step.outputShape());
            forward(core, step, x, residual, output);
            System.arraycopy(layout.toUser(output, step.outputShape()).data(), 0, out.data(), 0, output.length);
        }

        /** The recipe into {@code output}, a channels-last array of the step's output shape. */
        private void forward(LayerCore<?> core, ConvStep step, Tensor x, Tensor residual, float[] output) {
            LayerLayout layout = core.layout();
            float[] input = layout.toInternal(x.data(), x.shape());
            float[] kernel = step.convKernel(core.internalKernel());
            ForwardRecipe.run(ops, step, input, kernel, core.bias() == null ? null : core.bias().data(),
                    core.hostEpilogue(internalResidual(layout, residual)), output);
        }

        @Override
        public ConvGradients backward(LayerCore<?> core, ConvStep step, Tensor x, Tensor residual, Tensor dy) {
            LayerLayout layout = core.layout();
            float[] xValues = layout.toInternal(x.data(), x.shape());
            float[] dyValues = layout.toInternal(dy.data(), dy.shape());
            float[] kernel = step.convKernel(layout.kernelToInternal(core.effectiveKernel()));
            // The kernel gradient is masked in the held (channels-last) layout, where the recipe leaves it.
            float[] mask = core.mask() == null ? null : layout.kernelToInternal(core.mask().data());
            Tensor bias = core.bias();
            BackwardRecipe.Gradients<float[]> gradients = BackwardRecipe.run(ops, step, xValues, kernel,
                    bias == null ? null : bias.data(), core.hostEpilogue(internalResidual(layout, residual)),
                    dyValues, groups -> ops.flipSwapped(kernel, step.conv().kernelShape(), groups), mask,
                    bias != null);
            return new ConvGradients(layout.toUser(gradients.dx(), step.conv().inputShape()),
                    Tensor.of(layout.kernelToUser(gradients.dkernel()), core.kernel().shape()),
                    bias == null ? null : Tensor.of(gradients.dbias(), bias.shape()),
                    gradients.dscale() == null ? null : Tensor.of(gradients.dscale(), core.scale().shape()),
                    gradients.dshift() == null ? null : Tensor.of(gradients.dshift(), core.shift().shape()),
                    gradients.dresidual() == null ? null : layout.toUser(gradients.dresidual(), step.outputShape()));
        }

        /** A call's residual in the channels-last order the recipes compute in, or null. */
        private static float[] internalResidual(LayerLayout layout, Tensor residual) {
            return residual == null ? null : layout.toInternal(residual.data(), residual.shape());
        }
    }

    /** Host arrays on an OpenCL device: the backward pass runs the device recipe on uploaded operands. */
    abstract class OnDevice implements HostArrayCalls {
        final OpenClBackend device;

        OnDevice(OpenClBackend device) {
            this.device = device;
        }

        /**
         * {@code x}, {@code dy} and the parameters' current values (not the layer's resident copies, which may be
         * stale for host calls) uploaded into pooled device tensors for this call, the device pass run on them,
         * its gradients downloaded and every device tensor closed again (so a loop of calls allocates no device
         * memory after its first).
         */
        @Override
        public ConvGradients backward(LayerCore<?> core, ConvStep step, Tensor x, Tensor residual, Tensor dy) {
            DType dtype = core.dtype();
            return DeviceParameters.once(device, core.residentKernel(), core.bias(), core.mask(), core.scale(),
                    core.shift(), core.layout().arrangements(), dtype, parameters -> {
                        try (DeviceTensor deviceX = DeviceTensor.upload(device, x, dtype);
                                DeviceTensor deviceDy = DeviceTensor.upload(device, dy, dtype);
                                DeviceTensor deviceResidual = residual == null ? null
                                        : DeviceTensor.upload(device, residual, dtype);
                                DeviceGradients gradients = core.backward(device, step, deviceX, deviceResidual,
                                        deviceDy, parameters)) {
                            // Already in the host shapes: dx the input's, dkernel the held kernel's, dbias (Cout).
                            return gradients.download();
                        }
                    });
        }

        /**
         * The forward pass on the device: {@code x} and {@code residual} (or null) uploaded as they are, the layer's
         * device forward (axis moves, the fused epilogue) run with the resident parameters, compared with their
         * current values first, and the output downloaded.
         */
        Tensor throughDevice(LayerCore<?> core, ConvStep step, Tensor x, Tensor residual) {
            Tensor[] result = new Tensor[1];
            DType dtype = core.dtype();
            core.deviceParameters().useCurrent(device, core::residentKernel, core.bias(), resident -> {
                try (DeviceTensor deviceX = DeviceTensor.upload(device, x, dtype);
                        DeviceTensor deviceResidual = residual == null ? null
                                : DeviceTensor.upload(device, residual, dtype);
                        DeviceTensor y = DeviceTensor.allocate(device, dtype,
                                core.layout().userShape(step.outputShape()))) {
                    core.forward(device, step, deviceX, deviceResidual, resident, y);
                    result[0] = y.download();
                }
            });
            return result[0];
        }
    }

    /**
     * Channels-last host arrays on a device: the forward pass streams them through the backend's pipelined
     * host-array forward with the resident parameters, compared with their current values first (a training loop
     * may update them in place without telling the layer) and uploaded only when changed. That forward writes the
     * convolution's output alone, so a call with an epilogue goes through the device forward instead, fused there.
     */
    final class Streamed extends OnDevice {
        private final OnHost unstreamed;

        Streamed(OpenClBackend device, OnHost unstreamed) {
            super(device);
            this.unstreamed = unstreamed;
        }

        @Override
        public Tensor apply(LayerCore<?> core, ConvStep step, Tensor x, Tensor residual) {
            if (residual != null || core.hasEpilogue()) {
                return throughDevice(core, step, x, residual);
            }
            if (step.outputFold() != null) {
                // The streamed forward writes the convolution's output alone; a wrapped one (a transposed
                // CIRCULAR padding) runs the recipe over the backend's host-array operations instead.
                return unstreamed.apply(core, step, x, null);
            }
            float[] output = new float[(int) Tensor.elementCount(step.outputShape())];
            core.deviceParameters().useCurrent(device, core::residentKernel, core.bias(),
                    resident -> device.forward(step.conv(), x.data(), resident.kernel(), resident.bias(), output));
            return Tensor.of(output, step.outputShape());
        }
    }

    /**
     * Channels-first host arrays on a device, or those of a 16-bit layer: uploaded as they are (rounded to the
     * layer's type on the device), their axes moved on the device, and the output's moved back there, with the
     * resident parameters compared with their current values first.
     */
    final class Uploaded extends OnDevice {
        Uploaded(OpenClBackend device) {
            super(device);
        }

        @Override
        public Tensor apply(LayerCore<?> core, ConvStep step, Tensor x, Tensor residual) {
            return throughDevice(core, step, x, residual);
        }
    }
}
