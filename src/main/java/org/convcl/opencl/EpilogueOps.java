package org.convcl.opencl;

import org.convcl.DType;
import org.convcl.Epilogue;
import org.convcl.opencl.internal.plan.EpilogueKernel;
import org.convcl.opencl.internal.runtime.ClBuffer;
import org.convcl.opencl.internal.runtime.OpenClContext;

/**
 * The {@link Epilogue}'s element-wise kernels on an {@link OpenClBackend}'s device tensors: the unfused pass
 * {@code output = epilogue(output)} and the epilogue's backward, each checking every operand before it enqueues
 * anything, then one launch of an {@link EpilogueKernel} compiled once per epilogue form and kept in the
 * backend's {@link PlanCache}. Operands may be the same tensor where {@code HostEpilogue} allows it on arrays
 * (each work-item does one element's steps in the host's order, so the results are the host's). The element-wise
 * operands have one storage type, float16 and bfloat16 included; scale and shift are float32. The caller
 * ({@link DeviceOps}) holds the backend's lifecycle lock and records the work as what writes the outputs.
 * Thread-safe.
 */
final class EpilogueOps {
    /** The gradient's element-wise operands, by name, in the order its dtype check takes them. */
    private static final String[] GRADIENT_OPERANDS = {"conv", "dy", "residual", "dz", "dzConv", "dconv"};

    private final OpenClBackend backend;
    private final OpenClContext context;
    private final PlanCache plans;
    /** Bound where an epilogue lacks an operand: the kernel, built without it, never touches the argument. */
    private final ClBuffer placeholder;

    EpilogueOps(OpenClBackend backend, OpenClContext context, PlanCache plans, ClBuffer placeholder) {
        this.backend = backend;
        this.context = context;
        this.plans = plans;
        this.placeholder = placeholder;
    }

    /** See {@link OpenClBackend#epiloguePass}; a null epilogue is {@link Epilogue#none()}. */
    void pass(Epilogue<DeviceTensor> epilogue, int channels, DeviceTensor output) {
        Epilogue<DeviceTensor> e = Epilogue.orNone(epilogue);
        required("output", output, -1, null);
        int length = output.size();
        checkChannels(channels, length, "output " + output);
        checkParts(e, channels, length);
        DType storage = OperandChecks.oneDType("epilogue pass", new String[] {"output", "residual"}, output,
                e.residual());
        if (e.isNone() || length == 0) {
            return;
        }
        EpilogueKernel.Form form = form(e, storage);
        try (PlanCache.Lease<EpilogueKernel> kernel = plans.acquire(new PlanCache.Key("epilogue pass", form.key()),
                () -> EpilogueKernel.pass(context, form))) {
            kernel.plan().enqueuePass(context, length, channels, output.buffer(), buffer(e.scale()),
                    buffer(e.shift()), buffer(e.residual()));
        }
    }

    /** See {@link OpenClBackend#epilogueGradient}; a null epilogue is {@link Epilogue#none()}. */
    void gradient(Epilogue<DeviceTensor> epilogue, int channels, DeviceTensor conv, DeviceTensor dy, DeviceTensor dz,
            DeviceTensor dzConv, DeviceTensor dconv) {
        Epilogue<DeviceTensor> e = Epilogue.orNone(epilogue);
        required("conv", conv, -1, null);
        int length = conv.size();
        checkChannels(channels, length, "conv " + conv);
        String sameLength = "it must have conv's length";
        required("dy", dy, length, sameLength);
        required("dz", dz, length, sameLength);
        optional("dzConv", dzConv, length, sameLength);
        required("dconv", dconv, length, sameLength);
        checkParts(e, channels, length);
        DType storage = OperandChecks.oneDType("epilogue gradient", GRADIENT_OPERANDS, conv, dy, e.residual(), dz,
                dzConv, dconv);
        if (length == 0) {
            return;
        }
        EpilogueKernel.Form form = form(e, storage);
        boolean hasDzConv = dzConv != null;
        try (PlanCache.Lease<EpilogueKernel> kernel = plans.acquire(new PlanCache.Key("epilogue gradient",
                form.key() + (hasDzConv ? " dzConv" : "")), () -> EpilogueKernel.gradient(context, form, hasDzConv))) {
            kernel.plan().enqueueGradient(context, length, channels, conv.buffer(), dy.buffer(), buffer(e.scale()),
                    buffer(e.shift()), buffer(e.residual()), dz.buffer(), buffer(dzConv), dconv.buffer());
        }
    }

    private static EpilogueKernel.Form form(Epilogue<DeviceTensor> e, DType storage) {
        return new EpilogueKernel.Form(e.activation(), e.scale() != null, e.shift() != null, e.residual() != null,
                storage);
    }

    private ClBuffer buffer(DeviceTensor tensor) {
        return tensor == null ? placeholder : tensor.buffer();
    }

    private static void checkChannels(int channels, int length, String tensor) {
        if (channels < 1 || length % channels != 0) {
            throw new IllegalArgumentException("channels: " + channels + " does not divide the " + length
                    + " elements of " + tensor + "; a channels-last tensor has channels >= 1 values per position");
        }
    }

    /**
     * The epilogue's scale and shift hold one float32 value per channel, its residual one per element (of the
     * call's one type, checked with the other element-wise operands).
     */
    private void checkParts(Epilogue<DeviceTensor> e, int channels, int length) {
        optional("scale", e.scale(), channels, "scale holds one value per output channel (" + channels + ")");
        optional("shift", e.shift(), channels, "shift holds one value per output channel (" + channels + ")");
        optional("residual", e.residual(), length, "a residual has the output's " + length + " elements");
        EpilogueOperands.float32Vectors(e);
    }

    /** A required operand: not null, then as {@link #optional}. */
    private void required(String what, DeviceTensor tensor, int length, String rule) {
        if (tensor == null) {
            throw new IllegalArgumentException(what + ": got null; expected a DeviceTensor"
                    + (length < 0 ? "" : " of " + length + " elements"));
        }
        optional(what, tensor, length, rule);
    }

    /**
     * {@code tensor}, unless null, is an open tensor of this backend with {@code length} elements (any, for -1),
     * or an exception naming it, its value and {@code rule}.
     */
    private void optional(String what, DeviceTensor tensor, int length, String rule) {
        if (tensor == null) {
            return;
        }
        if (tensor.backend() != backend) {
            throw new IllegalArgumentException(what + ": " + tensor + " lives on another backend than "
                    + backend.name() + "; every operand of a call must be on the same one");
        }
        OperandChecks.open(what, tensor);
        if (length >= 0 && tensor.size() != length) {
            throw new IllegalArgumentException(what + ": " + tensor + " has " + tensor.size() + " elements; " + rule);
        }
    }
}
