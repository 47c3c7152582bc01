package org.convcl.opencl;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;
import org.convcl.ConvGeometry;
import org.convcl.DType;
import org.convcl.EdgePadding;
import org.convcl.Epilogue;
import org.convcl.opencl.device.OpenClException;
import org.convcl.opencl.internal.plan.ConvPlan;
import org.convcl.opencl.internal.plan.EpilogueBuffers;
import org.convcl.opencl.internal.plan.EpilogueShape;
import org.convcl.opencl.internal.plan.LayoutKernel;
import org.convcl.opencl.internal.runtime.BufferPool;
import org.convcl.opencl.internal.runtime.ClBuffer;
import org.convcl.opencl.internal.runtime.KernelEvents;
import org.convcl.opencl.internal.runtime.OpenClContext;
import org.jocl.cl_event;

/**
 * The operations of an {@link OpenClBackend} on its device tensors: each checks its operands, enqueues its
 * kernels and returns, recording their last event as the work producing the output ({@link DeviceTensor#await()})
 * and in the call log, so that {@link #finish()} names a call that failed. The convolution and the transposes
 * run here; the backward-pass kernels in {@link GradientOps}. Thread-safe.
 */
final class DeviceOps {
    /** The forward convolution's operands, by name, in the order its dtype check takes them. */
    private static final String[] FORWARD_OPERANDS = {"input", "kernel", "bias", "output"};
    private static final PlanCache.Key LAYOUT = new PlanCache.Key("layout", "batched transpose");
    /** The transpose's operands, by name, in the order its dtype check takes them. */
    private static final String[] TRANSPOSE_OPERANDS = {"source", "target"};

    private final OpenClBackend backend;
    private final Lifecycle lifecycle;
    private final OpenClContext context;
    private final BufferPool pool;
    private final PlanCache cache;
    private final ForwardPlans plans;
    private final GradientOps gradients;
    private final EpilogueOps epilogues;
    private final ClBuffer placeholder;
    /** Recent asynchronous calls, so that {@link #finish()} names one that failed. */
    private final CallLog calls = new CallLog();

    DeviceOps(OpenClBackend backend, Lifecycle lifecycle, OpenClContext context, BufferPool pool, PlanCache cache,
            ForwardPlans plans, ClBuffer placeholder) {
        this.backend = backend;
        this.lifecycle = lifecycle;
        this.context = context;
        this.pool = pool;
        this.cache = cache;
        this.plans = plans;
        this.placeholder = placeholder;
        this.gradients = new GradientOps(backend, context, pool, cache);
        this.epilogues = new EpilogueOps(backend, context, cache, placeholder);
    }

    /** See {@link OpenClBackend#forward(ConvPlan, ConvGeometry, DeviceTensor, DeviceTensor, DeviceTensor, DeviceTensor)}. */
    void forward(ConvPlan plan, ConvGeometry g, DeviceTensor input, DeviceTensor kernel, DeviceTensor bias,
            DeviceTensor output) {
        forward(plan, g, input, kernel, bias, Epilogue.none(), output);
    }

    /**
     * See {@link OpenClBackend#forward(ConvGeometry, DeviceTensor, DeviceTensor, DeviceTensor, Epilogue,
     * DeviceTensor)}: the epilogue in the kernel's store; every operand checked before anything is enqueued.
     */
    void forward(ConvPlan plan, ConvGeometry g, DeviceTensor input, DeviceTensor kernel, DeviceTensor bias,
            Epilogue<DeviceTensor> epilogue, DeviceTensor output) {
        OperandChecks.anyDType(backend, "input", input, g.inputShape());
        OperandChecks.anyDType(backend, "kernel", kernel, g.kernelShape());
        if (bias != null) {
            OperandChecks.anyDType(backend, "bias", bias, new int[] {g.outChannels()});
        }
        OperandChecks.anyDType(backend, "output", output, g.outputShape());
        if (output == input || output == kernel || output == bias) {
            throw new IllegalArgumentException("output: " + output + " is also an operand; a convolution cannot "
                    + "write over its own input");
        }
        DType storage = OperandChecks.oneDType("convolution", FORWARD_OPERANDS, input, kernel, bias, output);
        // The plan is compiled for the operands' storage type; the products are float32 whatever it is.
        ConvGeometry stored = g.withStorage(storage);
        EpilogueShape shape = EpilogueOperands.check(backend, "convolution", epilogue, g.outChannels(),
                (what, residual) -> OperandChecks.anyDType(backend, what, residual, g.outputShape()), output);
        if (plan != null && !plan.accepts(stored, bias != null, shape)) {
            throw new IllegalArgumentException("plan: " + plan + " was built for another geometry, bias or epilogue "
                    + "setting than " + g + " (bias " + (bias != null) + ", epilogue " + shape + ")");
        }
        EpilogueBuffers operands = EpilogueOperands.buffers(epilogue);
        if (output.size() == 0) {
            return;
        }
        produce(output, () -> "convolution " + g, () -> {
            try (PlanCache.Lease<ConvPlan> lease = plan != null ? plans.same(plan, stored, bias != null)
                    : plans.defaultPlan(stored, bias != null, shape)) {
                ConvPlan chosen = lease.plan();
                ClBuffer biasBuffer = bias == null ? placeholder : bias.buffer();
                ClBuffer rows = chosen.phaseBiasRows(context, pool, kernel.buffer(), biasBuffer);
                try {
                    chosen.enqueue(context, g.batch(), input.buffer(), 0, kernel.buffer(), biasBuffer, rows,
                            output.buffer(), 0, operands);
                } finally {
                    // Safe while the kernel still runs: the compute queue is in order, so a later user waits.
                    pool.release(rows);
                }
            }
        });
    }

    void kernelGradient(ConvGeometry g, DeviceTensor input, DeviceTensor outputGradient, DeviceTensor kernelGradient) {
        produce(kernelGradient, () -> "kernel gradient of " + g,
                () -> gradients.kernelGradient(g, input, outputGradient, kernelGradient));
    }

    void biasGradient(DeviceTensor outputGradient, DeviceTensor biasGradient) {
        produce(biasGradient, () -> "bias gradient of " + outputGradient,
                () -> gradients.biasGradient(outputGradient, biasGradient));
    }

    void pad(EdgePadding padding, DeviceTensor source, DeviceTensor padded) {
        produce(padded, () -> "edge padding " + padding, () -> gradients.pad(padding, source, padded));
    }

    void fold(EdgePadding padding, DeviceTensor padded, DeviceTensor bias, Epilogue<DeviceTensor> epilogue,
            DeviceTensor source) {
        produce(source, () -> "edge fold " + padding + (epilogue == null || epilogue.isNone() ? "" : " with "
                + epilogue), () -> gradients.fold(padding, padded, bias, epilogue, source));
    }

    void flipSwap(DeviceTensor kernel, int groups, DeviceTensor result) {
        produce(result, () -> "kernel flip of " + kernel + " (groups " + groups + ")",
                () -> gradients.flipSwap(kernel, groups, result));
    }

    void multiplyInPlace(DeviceTensor values, DeviceTensor factors) {
        produce(values, () -> "element-wise product of " + values + " and " + factors,
                () -> gradients.multiplyInPlace(values, factors));
    }

    /** See {@link OpenClBackend#epiloguePass}. */
    void epiloguePass(Epilogue<DeviceTensor> epilogue, int channels, DeviceTensor output) {
        produce(output, () -> "epilogue pass " + epilogue + " over " + output,
                () -> epilogues.pass(epilogue, channels, output));
    }

    /** See {@link OpenClBackend#epilogueGradient}. */
    void epilogueGradient(Epilogue<DeviceTensor> epilogue, int channels, DeviceTensor conv, DeviceTensor dy,
            DeviceTensor dz, DeviceTensor dzConv, DeviceTensor dconv) {
        produce(Arrays.asList(dz, dzConv, dconv), () -> "epilogue gradient " + epilogue + " of "
                + conv, () -> epilogues.gradient(epilogue, channels, conv, dy, dz, dzConv, dconv));
    }

    /** See {@link OpenClBackend#transpose}. */
    void transpose(DeviceTensor source, int batch, int rows, int cols, DeviceTensor target) {
        if (batch < 0 || rows < 0 || cols < 0) {
            throw new IllegalArgumentException("transpose: batch " + batch + ", rows " + rows + " and cols " + cols
                    + " must be >= 0");
        }
        long count = (long) batch * rows * cols;
        for (DeviceTensor tensor : new DeviceTensor[] {source, target}) {
            String what = tensor == source ? "source" : "target";
            if (tensor == null) {
                throw new IllegalArgumentException("transpose: " + what + " is null; expected a DeviceTensor of "
                        + count + " values");
            }
            if (tensor.backend() != backend) {
                throw new IllegalArgumentException("transpose: " + what + " " + tensor + " lives on another backend "
                        + "than " + backend.name() + "; every operand of a call must be on the same one");
            }
            OperandChecks.open("transpose: " + what, tensor);
            if (tensor.size() != count) {
                throw new IllegalArgumentException("transpose: " + what + " " + tensor + " holds " + tensor.size()
                        + " values but (batch " + batch + ", rows " + rows + ", cols " + cols + ") is " + count);
            }
        }
        if (target == source) {
            throw new IllegalArgumentException("transpose: target " + target + " is also the source; the result "
                    + "must go to a tensor of its own");
        }
        // A move converts nothing: source and target hold one type, whose elements the kernel moves as they are.
        DType storage = OperandChecks.oneDType("transpose", TRANSPOSE_OPERANDS, source, target);
        produce(target, () -> "transpose of " + source + " as (" + batch + ", " + rows + ", " + cols + ")", () -> {
            if (count > 0) {
                try (PlanCache.Lease<LayoutKernel> layout = cache.acquire(layoutKey(storage),
                        () -> LayoutKernel.create(context, storage))) {
                    layout.plan().transpose(context, batch, rows, cols, source.buffer(), target.buffer());
                }
            }
        });
    }

    /** The transpose of elements of {@code storage}; float32's under the key it always had. */
    private static PlanCache.Key layoutKey(DType storage) {
        return storage == DType.FLOAT32 ? LAYOUT
                : new PlanCache.Key("layout", "batched transpose, storage " + storage.cliName());
    }

        /** See {@link OpenClBackend#finish()}. */
    void finish() {
        lifecycle.run(() -> {
            try {
                context.finish();
            } catch (OpenClException e) {
                // A failed kernel makes the wait itself fail on some drivers: name the call when one failed.
                try {
                    calls.check();
                } catch (OpenClException named) {
                    named.addSuppressed(e);
                    throw named;
                }
                throw e;
            }
            calls.check();
        });
    }

    /**
     * Enqueues {@code action}'s kernels, which write {@code output}, and records their last event as the work
     * producing it and in the call log, under {@code call}'s name; also for {@link PoolOps}.
     */
    void produce(DeviceTensor output, Supplier<String> call, Runnable action) {
        lifecycle.run(() -> {
            cl_event last = KernelEvents.lastLaunchOf(action);
            if (last != null) {
                record(output, new Production(last, call));
            }
        });
    }

    /**
     * {@link #produce(DeviceTensor, Supplier, Runnable)} for an action that writes several tensors (some may be
     * the same one, or null where optional): each holds its own reference.
     */
    private void produce(List<DeviceTensor> outputs, Supplier<String> call, Runnable action) {
        lifecycle.run(() -> {
            cl_event last = KernelEvents.lastLaunchOf(action);
            if (last != null) {
                List<DeviceTensor> distinct = new ArrayList<>();
                for (DeviceTensor output : outputs) {
                    if (output != null && distinct.stream().noneMatch(seen -> seen == output)) {
                        distinct.add(output);
                    }
                }
                Production work = new Production(last, call);
                calls.add(work);
                // The last tensor takes over the launch's reference; the others each get one of their own first.
                for (int i = 0; i < distinct.size() - 1; i++) {
                    work.retain();
                }
                for (DeviceTensor output : distinct) {
                    output.produced(work);
                }
            }
        });
    }

    /** Records {@code work} as what writes {@code output} now, and in the call log; takes over its reference. */
    void record(DeviceTensor output, Production work) {
        calls.add(work);
        output.produced(work);
    }

    /** Releases what the operations hold beyond the plan cache; the backend calls it once no call is in flight. */
    void close() {
        calls.clear();
        gradients.close();
    }
}
