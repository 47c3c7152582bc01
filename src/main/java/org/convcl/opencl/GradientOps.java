package org.convcl.opencl;

import java.util.Arrays;
import org.convcl.ConvGeometry;
import org.convcl.DType;
import org.convcl.EdgePadding;
import org.convcl.Epilogue;
import org.convcl.Tensor;
import org.convcl.internal.KernelLayout;
import org.convcl.opencl.internal.plan.EdgePaddingPlan;
import org.convcl.opencl.internal.plan.ElementKernels;
import org.convcl.opencl.internal.plan.EpilogueBuffers;
import org.convcl.opencl.internal.plan.EpilogueShape;
import org.convcl.opencl.internal.plan.KernelGradientPlan;
import org.convcl.opencl.internal.plan.PlanKey;
import org.convcl.opencl.internal.plan.ReductionSplit;
import org.convcl.opencl.internal.runtime.BufferPool;
import org.convcl.opencl.internal.runtime.ClBuffer;
import org.convcl.opencl.internal.runtime.OpenClContext;

/**
 * The backward-pass operations of one {@link OpenClBackend}, all in kernels, on device tensors: the
 * kernel-gradient and bias-gradient reductions, the {@link EdgePadding} pad and fold, and the kernel-layout
 * operations that device-resident backward passes need. Each call enqueues and returns. There is no host-array
 * twin: the backend's host-array forms upload their operands and call these ({@link HostCall}), so both run
 * the same kernels with the same splits and give the same bits.
 *
 * <p>Every operation takes device tensors of one storage type (float32, float16 or bfloat16; a call mixing them is
 * refused naming each operand), computes in float32 and rounds its results once to that type, but a bias gradient,
 * which is float32 whatever its output gradient's type (issue 26).
 *
 * <p>Reductions are deterministic: a long reduction is cut into {@link ReductionSplit row ranges} whose
 * partial sums are added in a fixed order by a second kernel, with no atomics.
 *
 * <p>Plans are compiled once per shape, the small size-agnostic kernels once, and kept in the backend's
 * {@link PlanCache}, leased for as long as a call enqueues with them. The caller ({@link DeviceOps}) holds the
 * backend's lifecycle lock around every call. Thread-safe.
 */
final class GradientOps implements AutoCloseable {
    private final OpenClBackend backend;
    private final OpenClContext context;
    private final BufferPool pool;
    private static final PlanCache.Key ELEMENT_KERNELS = new PlanCache.Key("element kernels", "all shapes");
    /** The kernel gradient's operands, by name, in the order its dtype check takes them. */
    private static final String[] KERNEL_GRADIENT_OPERANDS = {"input", "outputGradient", "kernelGradient"};

    private final PlanCache plans;
    private final Object placeholderLock = new Object();
    private volatile ClBuffer placeholder;

    GradientOps(OpenClBackend backend, OpenClContext context, BufferPool pool, PlanCache plans) {
        this.backend = backend;
        this.context = context;
        this.pool = pool;
        this.plans = plans;
    }

    // ---- device tensors ----------------------------------------------------------------------------------

    /**
     * The kernel gradient in the operands' one type: a 16-bit one is summed in float32 partials and rounded once
     * into {@code kernelGradient}.
     */
    void kernelGradient(ConvGeometry g, DeviceTensor input, DeviceTensor outputGradient, DeviceTensor kernelGradient) {
        OperandChecks.anyDType(backend, "input", input, g.inputShape());
        OperandChecks.anyDType(backend, "outputGradient", outputGradient, g.outputShape());
        OperandChecks.anyDType(backend, "kernelGradient", kernelGradient, g.kernelShape());
        OperandChecks.distinct("kernelGradient", kernelGradient, input, outputGradient);
        DType storage = OperandChecks.oneDType("kernel gradient", KERNEL_GRADIENT_OPERANDS, input, outputGradient,
                kernelGradient);
        if (kernelGradient.size() > 0) {
            enqueueKernelGradient(g.withStorage(storage), input.buffer(), outputGradient.buffer(),
                    kernelGradient.buffer());
        }
    }

    void biasGradient(DeviceTensor outputGradient, DeviceTensor biasGradient) {
        if (biasGradient == null || biasGradient.rank() != 1) {
            throw new IllegalArgumentException("biasGradient: got " + (biasGradient == null ? "null"
                    : "shape " + Arrays.toString(biasGradient.shape())) + "; expected a DeviceTensor of shape (C)");
        }
        int channels = biasGradient.size();
        if (outputGradient == null || outputGradient.rank() < 1
                || outputGradient.shape()[outputGradient.rank() - 1] != channels) {
            throw new IllegalArgumentException("outputGradient: got " + (outputGradient == null ? "null"
                    : "shape " + Arrays.toString(outputGradient.shape())) + "; expected a DeviceTensor whose last dim "
                    + "is the bias gradient's " + channels + " channels");
        }
        OperandChecks.anyDType(backend, "outputGradient", outputGradient, outputGradient.shape());
        OperandChecks.tensor(backend, "biasGradient", biasGradient, biasGradient.shape());
        OperandChecks.distinct("biasGradient", biasGradient, outputGradient);
        if (channels > 0) {
            enqueueBiasGradient(outputGradient.size() / channels, channels, outputGradient.dtype(),
                    outputGradient.buffer(), biasGradient.buffer());
        }
    }

    void pad(EdgePadding e, DeviceTensor source, DeviceTensor padded) {
        OperandChecks.batchFlattened(backend, "source", source, e.sourceShape());
        OperandChecks.batchFlattened(backend, "padded", padded, e.paddedShape());
        OperandChecks.distinct("pad", padded, source);
        DType storage = OperandChecks.oneDType("pad", new String[] {"source", "padded"}, source, padded);
        if (padded.size() > 0) {
            enqueuePad(e, storage, source.buffer(), padded.buffer());
        }
    }

    /** The fold, its store applying {@code epilogue} (null or none: plain); every operand checked first. */
    void fold(EdgePadding e, DeviceTensor padded, DeviceTensor bias, Epilogue<DeviceTensor> epilogue,
            DeviceTensor source) {
        OperandChecks.batchFlattened(backend, "padded", padded, e.paddedShape());
        if (bias != null) {
            OperandChecks.anyDType(backend, "bias", bias, new int[] {e.channels()});
        }
        OperandChecks.batchFlattened(backend, "source", source, e.sourceShape());
        OperandChecks.distinct("fold", source, padded, bias);
        DType storage = OperandChecks.oneDType("fold", new String[] {"padded", "bias", "source"}, padded, bias,
                source);
        EpilogueShape shape = EpilogueOperands.check(backend, "fold", epilogue, e.channels(),
                (what, residual) -> OperandChecks.batchFlattened(backend, what, residual, e.sourceShape()), source);
        if (source.size() > 0) {
            enqueueFold(e, storage, padded.buffer(), bias == null ? null : bias.buffer(), shape,
                    EpilogueOperands.buffers(epilogue), source.buffer());
        }
    }

    void flipSwap(DeviceTensor kernel, int groups, DeviceTensor result) {
        if (kernel == null) {
            throw new IllegalArgumentException("kernel: got null; expected a DeviceTensor (*k, A, groups * B)");
        }
        int[] shape = kernel.shape();
        int rank = shape.length - 2;
        if (rank < 1) {
            throw new IllegalArgumentException("kernel: shape " + Arrays.toString(shape)
                    + " needs at least one spatial dim, so rank >= 3");
        }
        if (groups < 1 || shape[rank + 1] % groups != 0) {
            throw new IllegalArgumentException("groups: " + groups + " does not divide the kernel's last dim "
                    + shape[rank + 1] + " of shape " + Arrays.toString(shape));
        }
        OperandChecks.anyDType(backend, "kernel", kernel, shape);
        OperandChecks.anyDType(backend, "result", result, KernelLayout.flipSwapShape(shape, groups));
        OperandChecks.distinct("flipSwap", result, kernel);
        DType storage = OperandChecks.oneDType("flipSwap", new String[] {"kernel", "result"}, kernel, result);
        if (result.size() > 0) {
            int taps = (int) Tensor.elementCount(Arrays.copyOf(shape, rank));
            try (PlanCache.Lease<ElementKernels> kernels = elementKernels(storage)) {
                kernels.plan().flipSwap(context, taps, shape[rank], shape[rank + 1] / groups, groups,
                        kernel.buffer(), result.buffer());
            }
        }
    }

    void multiplyInPlace(DeviceTensor values, DeviceTensor factors) {
        if (values == null) {
            throw new IllegalArgumentException("values: got null; expected a DeviceTensor");
        }
        OperandChecks.anyDType(backend, "values", values, values.shape());
        OperandChecks.anyDType(backend, "factors", factors, values.shape());
        OperandChecks.distinct("multiplyInPlace", values, factors);
        DType storage = OperandChecks.oneDType("multiplyInPlace", new String[] {"values", "factors"}, values,
                factors);
        if (values.size() > 0) {
            try (PlanCache.Lease<ElementKernels> kernels = elementKernels(storage)) {
                kernels.plan().multiplyInPlace(context, values.size(), values.buffer(), factors.buffer());
            }
        }
    }

    // ---- the kernels, on buffers -------------------------------------------------------------------------

    private void enqueueKernelGradient(ConvGeometry g, ClBuffer input, ClBuffer outputGradient, ClBuffer result) {
        try (PlanCache.Lease<KernelGradientPlan> lease = plans.acquire(new PlanCache.Key("kernel gradient",
                PlanKey.shapeSignature(g)), () -> KernelGradientPlan.create(context, g))) {
            KernelGradientPlan plan = lease.plan();
            long rows = plan.rows(g.batch());
            ReductionSplit split = ReductionSplit.of(rows, plan.rowsPerStep(), plan.blockGroups(), plan.kernelSize(),
                    targetWorkGroups());
            // The first pass writes float32 sums: a 16-bit result always takes the second pass, which rounds it.
            if (split.splits() == 1 && g.storage() == DType.FLOAT32) {
                plan.enqueue(context, (int) rows, split, input, outputGradient, result);
                return;
            }
            ClBuffer partials = pool.acquire(4L * split.splits() * plan.kernelSize(),
                    () -> "kernel-gradient partial sums");
            try (PlanCache.Lease<ElementKernels> kernels = elementKernels(g.storage())) {
                plan.enqueue(context, (int) rows, split, input, outputGradient, partials);
                kernels.plan().sumPartials(context, split.splits(), plan.kernelSize(), partials, result);
            } finally {
                // Safe while the kernels still run: the queue is in order, so a later user of the buffer waits.
                pool.release(partials);
            }
        }
    }

    /** The bias gradient in float32 of an output gradient of {@code storage}: partials and sums are float32. */
    private void enqueueBiasGradient(int rows, int channels, DType storage, ClBuffer outputGradient, ClBuffer result) {
        try (PlanCache.Lease<ElementKernels> lease = elementKernels(storage);
                PlanCache.Lease<ElementKernels> float32 = storage == DType.FLOAT32 ? null
                        : elementKernels(DType.FLOAT32)) {
            ElementKernels kernels = lease.plan();
            ElementKernels sums = float32 == null ? kernels : float32.plan();
            // One work-item per column and range: aim at enough work-items to fill the device.
            ReductionSplit split = ReductionSplit.of(rows, ElementKernels.BLOCK_ROWS, channels, channels,
                    targetWorkGroups() * kernels.workGroupSize());
            if (split.splits() == 1) {
                kernels.columnPartials(context, rows, channels, split, outputGradient, result);
                return;
            }
            ClBuffer partials = pool.acquire(4L * split.splits() * channels, () -> "bias-gradient partial sums");
            try {
                kernels.columnPartials(context, rows, channels, split, outputGradient, partials);
                sums.sumPartials(context, split.splits(), channels, partials, result);
            } finally {
                pool.release(partials);
            }
        }
    }

    private void enqueuePad(EdgePadding e, DType storage, ClBuffer source, ClBuffer padded) {
        try (PlanCache.Lease<EdgePaddingPlan> plan = plans.acquire(new PlanCache.Key("edge padding",
                EdgePaddingPlan.key(e, false, false, storage)), () -> EdgePaddingPlan.pad(context, e, storage))) {
            plan.plan().enqueuePad(context, e.batch(), source, padded);
        }
    }

    private void enqueueFold(EdgePadding e, DType storage, ClBuffer padded, ClBuffer bias, EpilogueShape epilogue,
            EpilogueBuffers operands, ClBuffer source) {
        boolean hasBias = bias != null;
        PlanCache.Key key = new PlanCache.Key("edge padding", EdgePaddingPlan.foldKey(e, hasBias, epilogue, storage));
        try (PlanCache.Lease<EdgePaddingPlan> plan = plans.acquire(key,
                () -> EdgePaddingPlan.fold(context, e, hasBias, epilogue, storage))) {
            plan.plan().enqueueFold(context, e.batch(), padded, hasBias ? bias : placeholder(), source, operands);
        }
    }

    /** Work-groups that keep the device busy: a few per compute unit. */
    private long targetWorkGroups() {
        return 4L * Math.max(1, context.device().computeUnits());
    }

    // ---- plumbing ----------------------------------------------------------------------------------------

    /** The element kernels on values of {@code storage}; float32's under the key they always had. */
    private PlanCache.Lease<ElementKernels> elementKernels(DType storage) {
        PlanCache.Key key = storage == DType.FLOAT32 ? ELEMENT_KERNELS
                : new PlanCache.Key("element kernels", "all shapes, storage " + storage.cliName());
        return plans.acquire(key, () -> ElementKernels.create(context, storage));
    }

    /** A buffer bound where a kernel takes an optional operand it will not read. */
    private ClBuffer placeholder() {
        ClBuffer buffer = placeholder;
        if (buffer == null) {
            synchronized (placeholderLock) {
                buffer = placeholder;
                if (buffer == null) {
                    buffer = context.allocate(0, "absent-operand placeholder");
                    placeholder = buffer;
                }
            }
        }
        return buffer;
    }

    /** Releases what these operations hold beyond the plan cache. */
    @Override
    public void close() {
        synchronized (placeholderLock) {
            if (placeholder != null) {
                placeholder.close();
                placeholder = null;
            }
        }
    }
}
