package org.convcl.opencl.internal.plan;

import java.util.List;
import org.convcl.ConvGeometry;
import org.convcl.opencl.OpenClBackend;
import org.convcl.opencl.internal.runtime.BufferPool;
import org.convcl.opencl.internal.runtime.ClBuffer;
import org.convcl.opencl.internal.runtime.OpenClContext;

/**
 * A convolution compiled for one geometry (batch aside) and one {@link KernelConfig} on one device: the kernel its
 * {@link ForwardVariant} compiled ({@link ForwardVariants}: implicit GEMM, depthwise, any rank), with its launch
 * shape and extra arguments. Built once by {@link OpenClBackend#plan} and reused by every call of that shape;
 * the batch is a run-time argument, so every batch size (and every chunk of a split batch) shares it.
 *
 * <p>Thread-safe: launches are serialised on the kernel object only for the duration of the enqueue.
 * Closed with its backend; a closed plan fails loudly.
 */
public final class ConvPlan implements AutoCloseable {
    /** Geometry defaults and the source-index rule that the GEMM and depthwise kernels share. */
    public static final String GEOMETRY_SOURCE = "conv_geometry.cl";
    /** TF32 operand rounding, compiled in front of the kernels whose products it rounds. */
    public static final String TF32_SOURCE = "tf32.cl";

    private final PlanKey key;
    private final String shapeSignature;
    private final boolean hasBias;
    private final EpilogueShape epilogue;
    private final ForwardKernel compiled;

    private ConvPlan(PlanKey key, ConvGeometry g, boolean hasBias, EpilogueShape epilogue, ForwardKernel compiled) {
        this.key = key;
        this.shapeSignature = PlanKey.shapeSignature(g);
        this.hasBias = hasBias;
        this.epilogue = epilogue;
        this.compiled = compiled;
    }

    /** Compiles (or fetches from the program cache) and prepares a plan; a geometry with no output has none. */
    public static ConvPlan create(OpenClContext context, ConvGeometry g, boolean hasBias, KernelConfig config) {
        return create(context, g, hasBias, EpilogueShape.NONE, config);
    }

    /** As {@link #create(OpenClContext, ConvGeometry, boolean, KernelConfig)}, its store fused with {@code epilogue}. */
    public static ConvPlan create(OpenClContext context, ConvGeometry g, boolean hasBias, EpilogueShape epilogue,
            KernelConfig config) {
        if (g.outputSpatialSize() == 0 || g.outChannels() == 0) {
            throw new IllegalArgumentException("geometry " + g + " has an empty output; there is nothing to plan");
        }
        PlanKey key = PlanKey.of(g, hasBias, epilogue, config);
        return new ConvPlan(key, g, hasBias, epilogue, ForwardVariants.compile(context, g, hasBias, epilogue, config));
    }

    /**
     * Enqueues one run over {@code batch} batch elements: input from element {@code inputOffset} of
     * {@code input}, output to element {@code outputOffset} of {@code output}. Returns without waiting. A one-off
     * launch (the variant probe's, the tests'): a phased plan computes its bias rows into a buffer made for this
     * launch. The backend's calls, which may run the plan once per batch chunk and must allocate nothing in
     * steady state, take the rows from {@link #phaseBiasRows} once per call and pass them to
     * {@link #enqueue(OpenClContext, int, ClBuffer, int, ClBuffer, ClBuffer, ClBuffer, ClBuffer, int)}.
     */
    public void enqueue(OpenClContext context, int batch, ClBuffer input, int inputOffset, ClBuffer weights, ClBuffer bias,
            ClBuffer output, int outputOffset) {
        if (batch == 0) {
            return;
        }
        checkAlignment(inputOffset, outputOffset);
        if (compiled.phaseBias() == null) {
            enqueue(context, batch, input, inputOffset, weights, bias, null, output, outputOffset);
            return;
        }
        // Released once the launches that use it are enqueued, which OpenCL defers until they have run.
        try (ClBuffer rows = context.allocate(4 * compiled.phaseBiasLength(), "per-phase bias rows")) {
            enqueuePhaseBias(context, weights, bias, rows);
            enqueue(context, batch, input, inputOffset, weights, bias, rows, output, outputOffset);
        }
    }

    /**
     * As {@link #enqueue(OpenClContext, int, ClBuffer, int, ClBuffer, ClBuffer, ClBuffer, int)}, with a phased
     * plan's bias rows already computed from these {@code weights} and {@code bias} ({@link #phaseBiasRows});
     * {@code rows} is null for a plan without phases.
     */
    public void enqueue(OpenClContext context, int batch, ClBuffer input, int inputOffset, ClBuffer weights,
            ClBuffer bias, ClBuffer rows, ClBuffer output, int outputOffset) {
        enqueue(context, batch, input, inputOffset, weights, bias, rows, output, outputOffset, EpilogueBuffers.NONE);
    }

    /**
     * As {@link #enqueue(OpenClContext, int, ClBuffer, int, ClBuffer, ClBuffer, ClBuffer, ClBuffer, int)}, the store
     * applying the plan's epilogue with {@code epilogue}'s operands, which must be exactly those of the plan's
     * {@link EpilogueShape} ({@link EpilogueBuffers#NONE} for a plain plan).
     */
    public void enqueue(OpenClContext context, int batch, ClBuffer input, int inputOffset, ClBuffer weights,
            ClBuffer bias, ClBuffer rows, ClBuffer output, int outputOffset, EpilogueBuffers epilogue) {
        this.epilogue.check(epilogue, this);
        if (batch == 0) {
            return;
        }
        checkAlignment(inputOffset, outputOffset);
        boolean phased = compiled.phaseBias() != null;
        if ((rows != null) != phased) {
            throw new IllegalArgumentException("rows: got " + (rows == null ? "null" : "a buffer") + " for plan "
                    + this + "; a phased plan needs its per-phase bias rows (phaseBiasRows), any other plan none");
        }
        List<ClBuffer> extra = compiled.extraArguments();
        Object[] arguments = new Object[7 + extra.size() + 4];
        arguments[0] = batch;
        arguments[1] = input;
        arguments[2] = inputOffset;
        arguments[3] = weights;
        // The rows replace the bias: the kernel adds the row of each output's phase.
        arguments[4] = phased ? rows : bias;
        arguments[5] = output;
        arguments[6] = outputOffset;
        for (int i = 0; i < extra.size(); i++) {
            arguments[7 + i] = extra.get(i);
        }
        // The epilogue's operands last; an absent one is bound to the output, which the kernel never reads there.
        Object[] tail = (epilogue == null ? EpilogueBuffers.NONE : epilogue).arguments(output);
        System.arraycopy(tail, 0, arguments, 7 + extra.size(), tail.length);
        compiled.kernel().launch(context.queue(), compiled.global().apply(batch), compiled.local(), arguments);
    }

    /**
     * For a phased GEMM plan (input dilation: every strided input gradient, every transposed convolution): a
     * buffer from {@code pool} holding the per-phase bias rows of {@code weights} and {@code bias}, enqueued on the
     * compute queue; null for any other plan. Computed once per call and shared by its chunks; the caller gives
     * it back to the pool once its launches are enqueued (safe while they run: the queue is in order). A buffer
     * of the call's own, not one of the plan's: plans are shared by concurrent calls with other weights.
     */
    public ClBuffer phaseBiasRows(OpenClContext context, BufferPool pool, ClBuffer weights, ClBuffer bias) {
        if (compiled.phaseBias() == null) {
            return null;
        }
        ClBuffer rows = pool.acquire(4 * compiled.phaseBiasLength(), () -> "per-phase bias rows of " + this);
        try {
            enqueuePhaseBias(context, weights, bias, rows);
        } catch (RuntimeException e) {
            pool.release(rows);
            throw e;
        }
        return rows;
    }

    private void checkAlignment(int inputOffset, int outputOffset) {
        int inputAlignment = compiled.inputAlignment();
        int outputAlignment = compiled.outputAlignment();
        if (inputOffset % inputAlignment != 0 || outputOffset % outputAlignment != 0) {
            throw new IllegalArgumentException("plan " + this + ": loads " + inputAlignment + " and stores "
                    + outputAlignment + " floats at once, so the input offset (" + inputOffset + ") and output offset ("
                    + outputOffset + ") must be multiples of them");
        }
    }

    /** Enqueues phase_bias: {@code rows} = the bias plus the products with the dilation zeros the GEMM skips. */
    private void enqueuePhaseBias(OpenClContext context, ClBuffer weights, ClBuffer bias, ClBuffer rows) {
        long local = 64;
        long length = compiled.phaseBiasLength();
        compiled.phaseBias().launch(context.queue(), new long[] {(length + local - 1) / local * local}, null,
                weights, bias, rows);
    }

    /** Whether this plan computes {@code g} (any batch) with a plain store. */
    public boolean accepts(ConvGeometry g, boolean withBias) {
        return accepts(g, withBias, EpilogueShape.NONE);
    }

    /** Whether this plan computes {@code g} (any batch) with {@code epilogue} in its store. */
    public boolean accepts(ConvGeometry g, boolean withBias, EpilogueShape epilogue) {
        return withBias == hasBias && this.epilogue.equals(epilogue) && shapeSignature.equals(PlanKey.shapeSignature(g));
    }

    /** The epilogue its store applies ({@link EpilogueShape#NONE}: a plain store). */
    public EpilogueShape epilogue() {
        return epilogue;
    }

    /**
     * The config as compiled: the requested one with vector widths fitted to the geometry, and the general
     * kernel's work-group size fitted to the compiled kernel's limit.
     */
    public KernelConfig config() {
        return compiled.config();
    }

    /** The {@code -D} options the program was built with. */
    public String buildOptions() {
        return compiled.options();
    }

    PlanKey key() {
        return key;
    }

    public boolean isClosed() {
        return compiled.kernel().isClosed();
    }

    @Override
    public void close() {
        compiled.close();
    }

    @Override
    public String toString() {
        return "ConvPlan{" + compiled.config() + ", " + shapeSignature + ", bias=" + hasBias
                + (epilogue.isNone() ? "" : ", epilogue=" + epilogue) + "}";
    }
}
