package org.convcl.nn;

import org.convcl.DType;
import org.convcl.Epilogue;
import org.convcl.Tensor;
import org.convcl.backend.ConvBackend;
import org.convcl.backend.internal.BackwardRecipe;
import org.convcl.backend.internal.ConvStep;
import org.convcl.backend.internal.ForwardRecipe;

/**
 * A float16 or bfloat16 layer's host-tensor calls on a backend without a device (the Java path): the operands (the
 * input, the masked kernel, the bias, the mask, a call's residual and cotangent) are rounded to the layer's type and
 * the layer's recipes ({@link ForwardRecipe}, {@link BackwardRecipe}) run on them through {@link HalfHostConvOps},
 * the same steps with the same rounding points as on 16-bit device tensors: each operation sums in float32 and
 * rounds once, the epilogue's scale and shift stay float32, a CIRCULAR transpose's fold and the dx of a CIRCULAR or
 * REFLECT convolution sum 16-bit intermediates. The results in the type (the output, dx, dkernel, dresidual) come
 * back widened to float32; dbias, dscale and dshift are float32 sums. A channels-first layer's axes move on the
 * float32 values, before rounding and after widening: rounding is element by element, so the bits are those of
 * moving the rounded values; its moved kernel is kept across calls as the float32 layers keep theirs.
 * Immutable and thread-safe.
 */
record HalfOnHost(ConvBackend backend) implements HostArrayCalls {
    @Override
    public Tensor apply(LayerCore<?> core, ConvStep step, Tensor x, Tensor residual) {
        DType dtype = core.dtype();
        LayerLayout layout = core.layout();
        HalfHostConvOps ops = new HalfHostConvOps(backend, dtype);
        HalfHostArray output = ops.allocate(step.outputShape());
        HalfHostArray kernel = HalfHostArray.rounded(dtype, step.convKernel(core.internalKernel()));
        ForwardRecipe.run(ops, step, HalfHostArray.rounded(dtype, layout.toInternal(x.data(), x.shape())), kernel,
                bias(core), epilogue(core, layout, residual), output);
        return layout.toUser(output.widened(), step.outputShape());
    }

    @Override
    public ConvGradients backward(LayerCore<?> core, ConvStep step, Tensor x, Tensor residual, Tensor dy) {
        DType dtype = core.dtype();
        LayerLayout layout = core.layout();
        HalfHostConvOps ops = new HalfHostConvOps(backend, dtype);
        // The masked kernel as the step's convolution multiplies by it, rounded once (after the float32 mask).
        HalfHostArray kernel = HalfHostArray.rounded(dtype, step.convKernel(core.internalKernel()));
        // The kernel gradient is masked in the held (channels-last) layout, where the recipe leaves it, as on a
        // device.
        HalfHostArray mask = core.mask() == null ? null
                : HalfHostArray.rounded(dtype, layout.kernelToInternal(core.mask().data()));
        BackwardRecipe.Gradients<HalfHostArray> gradients = BackwardRecipe.run(ops, step,
                HalfHostArray.rounded(dtype, layout.toInternal(x.data(), x.shape())), kernel, bias(core),
                epilogue(core, layout, residual), HalfHostArray.rounded(dtype, layout.toInternal(dy.data(), dy.shape())),
                groups -> ops.flipSwapped(kernel, step.conv().kernelShape(), groups), mask, core.bias() != null);
        return new ConvGradients(layout.toUser(gradients.dx().widened(), step.conv().inputShape()),
                Tensor.of(layout.kernelToUser(gradients.dkernel().widened()), core.kernel().shape()),
                float32(gradients.dbias(), core.bias()), float32(gradients.dscale(), core.scale()),
                float32(gradients.dshift(), core.shift()), gradients.dresidual() == null ? null
                        : layout.toUser(gradients.dresidual().widened(), step.outputShape()));
    }

    private static HalfHostArray bias(LayerCore<?> core) {
        return core.bias() == null ? null : HalfHostArray.rounded(core.dtype(), core.bias().data());
    }

    /**
     * The layer's epilogue as a device runs it: scale and shift float32, the call's residual in the channels-last
     * order the recipes compute in, rounded to the type.
     */
    private static Epilogue<HalfHostArray> epilogue(LayerCore<?> core, LayerLayout layout, Tensor residual) {
        Epilogue<float[]> layers = core.hostEpilogue(null);
        return new Epilogue<>(layers.activation(), HalfHostArray.ofFloats(layers.scale()),
                HalfHostArray.ofFloats(layers.shift()), residual == null ? null
                        : HalfHostArray.rounded(core.dtype(), layout.toInternal(residual.data(), residual.shape())));
    }

    /** A float32 gradient in {@code parameter}'s shape, or null when the layer has no such parameter. */
    private static Tensor float32(HalfHostArray values, Tensor parameter) {
        return values == null || parameter == null ? null : Tensor.of(values.floats(), parameter.shape());
    }
}
