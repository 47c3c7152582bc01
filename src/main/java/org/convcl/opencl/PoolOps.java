package org.convcl.opencl;

import org.convcl.DType;
import org.convcl.PoolGeometry;
import org.convcl.PoolOp;
import org.convcl.Tensor;
import org.convcl.opencl.internal.plan.PoolPlan;
import org.convcl.opencl.internal.runtime.BufferPool;
import org.convcl.opencl.internal.runtime.ClBuffer;
import org.convcl.opencl.internal.runtime.OpenClContext;

/**
 * The pooling operations of one {@link OpenClBackend} on its device tensors ({@code kernels/pooling.cl}): each
 * checks its operands, enqueues and returns, recorded through {@link DeviceOps} as the work producing its output.
 * The host-array forms run these over uploaded operands ({@link HostCall}). The backward pass is a gather per
 * input element over the max/min choices a first kernel makes per window: no atomics, the sums in the host's
 * order, so it is deterministic and gives {@code HostPooling}'s bits. The operands of a call have one storage type,
 * float16 and bfloat16 included (computed in float32, rounded once on store). Plans are kept per shape and type in
 * the backend's {@link PlanCache}. Thread-safe.
 */
final class PoolOps {
    private final OpenClBackend backend;
    private final DeviceOps ops;
    private final OpenClContext context;
    private final BufferPool pool;
    private final PlanCache plans;

    PoolOps(OpenClBackend backend, DeviceOps ops, OpenClContext context, BufferPool pool, PlanCache plans) {
        this.backend = backend;
        this.ops = ops;
        this.context = context;
        this.pool = pool;
        this.plans = plans;
    }

    /** See {@link OpenClBackend#poolForward(PoolOp, PoolGeometry, DeviceTensor, DeviceTensor)}. */
    void forward(PoolOp op, PoolGeometry g, DeviceTensor input, DeviceTensor output) {
        check(op, g);
        OperandChecks.anyDType(backend, "input", input, g.inputShape());
        OperandChecks.anyDType(backend, "output", output, g.outputShape());
        OperandChecks.distinct("poolForward", output, input);
        DType storage = OperandChecks.oneDType("pooling", new String[] {"input", "output"}, input, output);
        ops.produce(output, () -> op + " pooling " + g, () -> {
            if (output.size() > 0) {
                try (PlanCache.Lease<PoolPlan> plan = plan(op, g, storage)) {
                    plan.plan().enqueueForward(context, g.batch(), input.buffer(), output.buffer());
                }
            }
        });
    }

    /** See {@link OpenClBackend#poolBackward(PoolOp, PoolGeometry, DeviceTensor, DeviceTensor, DeviceTensor)}. */
    void backward(PoolOp op, PoolGeometry g, DeviceTensor input, DeviceTensor outputGradient,
            DeviceTensor inputGradient) {
        check(op, g);
        OperandChecks.anyDType(backend, "input", input, g.inputShape());
        OperandChecks.anyDType(backend, "outputGradient", outputGradient, g.outputShape());
        OperandChecks.anyDType(backend, "inputGradient", inputGradient, g.inputShape());
        OperandChecks.distinct("poolBackward", inputGradient, input, outputGradient);
        DType storage = OperandChecks.oneDType("pooling gradient", new String[] {"input", "outputGradient",
            "inputGradient"}, input, outputGradient, inputGradient);
        ops.produce(inputGradient, () -> op + " pooling gradient " + g, () -> {
            // An input with elements has outputs too: every window fits, so each dim has at least one.
            if (inputGradient.size() > 0) {
                try (PlanCache.Lease<PoolPlan> lease = plan(op, g, storage)) {
                    enqueueBackward(lease.plan(), g, input, outputGradient, inputGradient);
                }
            }
        });
    }

    private void enqueueBackward(PoolPlan plan, PoolGeometry g, DeviceTensor input, DeviceTensor outputGradient,
            DeviceTensor inputGradient) {
        if (!plan.selects()) {
            // AVG reads no choices: the gradient buffer stands in for them.
            plan.enqueueBackward(context, g.batch(), outputGradient.buffer(), outputGradient.buffer(),
                    inputGradient.buffer());
            return;
        }
        ClBuffer picks = pool.acquire(4L * Tensor.elementCount(g.outputShape()), () -> "pooling choices");
        try {
            plan.enqueueSelect(context, g.batch(), input.buffer(), picks);
            plan.enqueueBackward(context, g.batch(), outputGradient.buffer(), picks, inputGradient.buffer());
        } finally {
            // Safe while the kernels still run: the queue is in order, so a later user of the buffer waits.
            pool.release(picks);
        }
    }

    private PlanCache.Lease<PoolPlan> plan(PoolOp op, PoolGeometry g, DType storage) {
        return plans.acquire(new PlanCache.Key("pooling", PoolPlan.key(op, g, storage)),
                () -> PoolPlan.create(context, op, g, storage));
    }

    /** The operation and geometry, refused by name when missing. */
    static void check(PoolOp op, PoolGeometry g) {
        if (op == null) {
            throw new IllegalArgumentException("op: got null; expected PoolOp.MAX, AVG or MIN");
        }
        if (g == null) {
            throw new IllegalArgumentException("geometry: got null; expected a PoolGeometry (PoolSpec.resolve)");
        }
    }
}
