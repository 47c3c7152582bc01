package org.convcl.opencl.internal.plan;

import java.util.ArrayList;
import java.util.List;
import org.convcl.Activation;
import org.convcl.DType;
import org.convcl.opencl.internal.runtime.BuildOptions;
import org.convcl.opencl.internal.runtime.ClBuffer;
import org.convcl.opencl.internal.runtime.ClKernel;
import org.convcl.opencl.internal.runtime.OpenClContext;

/**
 * One of the epilogue's element-wise kernels compiled for one epilogue form (its activation and which of scale,
 * shift and residual it has) on one device: the unfused pass {@code output = epilogue(output)}
 * ({@code kernels/epilogue_pass.cl}) or the epilogue's backward ({@code kernels/epilogue_gradient.cl}, with or
 * without {@code dzConv}). Sizes are run-time arguments, so one program serves every output of that form. Built
 * once per form by {@code EpilogueOps}, kept in the backend's plan cache; thread-safe ({@link ClKernel#launch}
 * serialises argument setting); closed with its backend.
 */
public final class EpilogueKernel implements AutoCloseable {
    static final String PASS_SOURCE = "epilogue_pass.cl";
    static final String GRADIENT_SOURCE = "epilogue_gradient.cl";
    /** Work-items per work-group where the kernel allows it: a streaming kernel needs no more to fill a device. */
    static final int WORK_GROUP_SIZE = 256;

    /**
     * What the epilogue has besides its activation: which operands its kernel reads, and the storage type of its
     * element-wise tensors (scale and shift are float32 whatever it is).
     */
    public record Form(Activation activation, boolean scale, boolean shift, boolean residual, DType storage) {
        /** A form on float32 tensors. */
        public Form(Activation activation, boolean scale, boolean shift, boolean residual) {
            this(activation, scale, shift, residual, DType.FLOAT32);
        }

        /** What identifies the compiled program: {@code relu(0x0.0p0) scale shift} (and a 16-bit storage type). */
        public String key() {
            return ActivationOptions.key(activation) + (scale ? " scale" : "") + (shift ? " shift" : "")
                    + (residual ? " residual" : "") + (storage == DType.FLOAT32 ? "" : " " + storage.cliName());
        }

        private BuildOptions options() {
            return StorageOption.define(ActivationOptions.define(new BuildOptions(), activation)
                    .define("EPI_SCALE", scale).define("EPI_SHIFT", shift).define("EPI_RESIDUAL", residual), storage);
        }
    }

    private final ClKernel kernel;
    private final boolean gradient;
    private final int workGroupSize;

    private EpilogueKernel(ClKernel kernel, boolean gradient, int workGroupSize) {
        this.kernel = kernel;
        this.gradient = gradient;
        this.workGroupSize = workGroupSize;
    }

    /** The pass {@code output = epilogue(output)} for epilogues of {@code form}. */
    public static EpilogueKernel pass(OpenClContext context, Form form) {
        return create(context, PASS_SOURCE, "epilogue_pass", form.options(), false);
    }

    /** The epilogue's backward for {@code form}, writing {@code dzConv} when {@code hasDzConv}. */
    public static EpilogueKernel gradient(OpenClContext context, Form form, boolean hasDzConv) {
        return create(context, GRADIENT_SOURCE, "epilogue_gradient", form.options().define("HAS_DZ_CONV", hasDzConv),
                true);
    }

    private static EpilogueKernel create(OpenClContext context, String source, String name, BuildOptions options,
            boolean gradient) {
        // After epilogue.cl, whose arithmetic the element-wise kernels share with the fused stores.
        List<String> sources = new ArrayList<>(EpilogueShape.SOURCES);
        sources.add(source);
        ClKernel kernel = context.kernel(context.program(sources, options.toString()), name);
        try {
            long limit = kernel.maxWorkGroupSize(context.device().handle());
            return new EpilogueKernel(kernel, gradient, (int) Math.max(1, Math.min(WORK_GROUP_SIZE, limit)));
        } catch (RuntimeException e) {
            kernel.close();
            throw e;
        }
    }

    /**
     * Enqueues the pass over {@code length} elements of {@code output} with {@code channels} channels; an operand
     * the form lacks may be any buffer (it is not read).
     */
    public void enqueuePass(OpenClContext context, int length, int channels, ClBuffer output, ClBuffer scale,
            ClBuffer shift, ClBuffer residual) {
        if (gradient) {
            throw new IllegalStateException("an epilogue-gradient kernel cannot run the pass");
        }
        kernel.launch(context.queue(), global(length), new long[] {workGroupSize}, length, channels, output, scale,
                shift, residual);
    }

    /**
     * Enqueues the backward over {@code length} elements with {@code channels} channels; an operand the form (or
     * {@code dzConv} setting) lacks may be any buffer (it is neither read nor written).
     */
    public void enqueueGradient(OpenClContext context, int length, int channels, ClBuffer conv, ClBuffer dy,
            ClBuffer scale, ClBuffer shift, ClBuffer residual, ClBuffer dz, ClBuffer dzConv, ClBuffer dconv) {
        if (!gradient) {
            throw new IllegalStateException("an epilogue-pass kernel cannot run the gradient");
        }
        kernel.launch(context.queue(), global(length), new long[] {workGroupSize}, length, channels, conv, dy, scale,
                shift, residual, dz, dzConv, dconv);
    }

    private long[] global(int length) {
        return new long[] {((long) length + workGroupSize - 1) / workGroupSize * workGroupSize};
    }

    @Override
    public void close() {
        kernel.close();
    }
}
