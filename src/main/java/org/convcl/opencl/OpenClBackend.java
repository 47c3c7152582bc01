package org.convcl.opencl;

import java.nio.FloatBuffer;
import org.convcl.ConvGeometry;
import org.convcl.DType;
import org.convcl.EdgePadding;
import org.convcl.Activation;
import org.convcl.Epilogue;
import org.convcl.PoolGeometry;
import org.convcl.PoolOp;
import org.convcl.Tensor;
import org.convcl.backend.ConvBackend;
import org.convcl.backend.internal.DecodedHalfForward;
import org.convcl.backend.internal.HalfHostEpilogue;
import org.convcl.backend.internal.HalfHostGradients;
import org.convcl.backend.internal.HostOperands;
import org.convcl.opencl.device.OpenClDevice;
import org.convcl.opencl.device.OpenClException;
import org.convcl.opencl.internal.plan.BatchChunks;
import org.convcl.opencl.internal.plan.ConvPlan;
import org.convcl.opencl.internal.plan.KernelConfig;
import org.convcl.opencl.internal.runtime.ClBuffer;
import org.convcl.opencl.internal.runtime.OpenClContext;
import org.convcl.opencl.internal.runtime.ProgramBinaryCache;

/**
 * Convolutions on one OpenCL device: one context with a compute queue and transfer queues, plans compiled on
 * first use and kept in a bounded cache ({@link PlanCache}), device memory from a caching allocator, and
 * device-resident {@link DeviceTensor}s. A facade: {@link HostForward}, {@link DeviceOps},
 * {@link TensorTransfers} and {@link Lifecycle} do the work.
 *
 * <p>Host arrays are copied in, computed and copied out by each call, which returns with the result. Device
 * tensors stay on the device: such calls only enqueue work and return; the output tensor keeps the event of that
 * work, and {@link DeviceTensor#await()}, its download, or {@link #finish()} waits for it (and reports its
 * failure by the call's name).
 *
 * <p>Thread-safe: any number of threads may call concurrently; their commands run in submission order.
 *
 * <p>Ownership. An instance made with {@link #create} is private: it belongs to its caller, who closes it
 * ({@link #close()} waits for calls in flight, then releases everything the backend created, including device
 * tensors still open). The instance {@link #shared} gives (which {@code Backends} hands out) is shared, one per
 * device for the whole JVM, and used by every layer that selected it: {@link #isShared()} says so, and its
 * {@link #close()} throws {@link IllegalStateException} instead of pulling the device from under those layers;
 * it is released at JVM exit or by {@code Backends.closeShared()}.
 */
public final class OpenClBackend implements ConvBackend {
    private final OpenClContext context;
    private final Lifecycle lifecycle;
    private final PlanCache cache;
    private final ForwardPlans plans;
    private final TensorTransfers tensors;
    private final HostForward host;
    private final DeviceOps ops;
    private final PoolOps pooling;
    private final DeviceConversions conversions;

    private OpenClBackend(OpenClContext context, boolean shared) {
        this.context = context;
        this.lifecycle = new Lifecycle(this::name, shared);
        BatchChunks chunks = BatchChunks.forDevice(context.device());
        this.tensors = new TensorTransfers(this, lifecycle, context, chunks);
        this.cache = PlanCache.configured();
        this.plans = new ForwardPlans(context, cache);
        ClBuffer placeholder = context.allocate(0, "bias placeholder");
        this.host = new HostForward(this, lifecycle, plans, tensors, context, chunks, placeholder);
        this.ops = new DeviceOps(this, lifecycle, context, tensors.pool(), cache, plans, placeholder);
        this.pooling = new PoolOps(this, ops, context, tensors.pool(), cache);
        this.conversions = new DeviceConversions(lifecycle, context, cache);
    }

    /** A new private backend (its own context and queues) on {@code device}, which the caller owns and closes. */
    public static OpenClBackend create(OpenClDevice device) {
        return new OpenClBackend(OpenClContext.create(OperandChecks.device(device)), false);
    }

    /** A new private backend whose compiled programs are cached in {@code binaries} (one of a null directory: none). */
    static OpenClBackend create(OpenClDevice device, ProgramBinaryCache binaries) {
        return new OpenClBackend(OpenClContext.create(device, binaries), false);
    }

    /**
     * The JVM-wide shared backend of {@code device} (the one {@code Backends} hands out), made on first use and
     * again after {@code Backends.closeShared()}. Its users may not close it; see the class comment.
     */
    public static OpenClBackend shared(OpenClDevice device) {
        return SharedBackends.of(OperandChecks.device(device));
    }

    /** A new shared backend, for {@link SharedBackends} alone: it refuses {@link #close()}. */
    static OpenClBackend newShared(OpenClDevice device) {
        return new OpenClBackend(OpenClContext.create(device), true);
    }

    @Override
    public String name() {
        return "opencl (" + context.device().name() + ")";
    }

    public OpenClDevice device() {
        return context.device();
    }

    @Override
    public String toString() {
        return name();
    }

    /**
     * The plan for {@code g} with the default config; internal (tuner, tests).
     *
     * @hidden
     */
    public ConvPlan plan(ConvGeometry g, boolean hasBias) {
        HostOperands.geometry(g);
        return lifecycle.guarded(() -> PlanCache.peek(plans.defaultPlan(g, hasBias)));
    }

    /**
     * The plan for {@code g} with {@code config}; internal (tuner, tests). Once evicted from the cache it is closed,
     * and a forward call given it builds its config again.
     *
     * @hidden
     */
    public ConvPlan plan(ConvGeometry g, boolean hasBias, KernelConfig config) {
        HostOperands.geometry(g);
        return lifecycle.guarded(() -> PlanCache.peek(plans.withConfig(g, hasBias, config)));
    }

    /** {@code output = conv(input, kernel) + bias} on host arrays; see the device-kernel form below. */
    @Override
    public void forward(ConvGeometry g, float[] input, float[] kernel, float[] bias, float[] output) {
        host.forward(g, input, kernel, bias, output);
    }

    /**
     * The forward on float16 or bfloat16 host bits (see {@link ConvBackend}): the bits uploaded as they are into
     * 16-bit device tensors, the device forward on them (float32 sums, the output rounded to the type in the
     * kernel's store), the output's bits downloaded. Returns when {@code output} holds the result. Operands with no
     * elements (no input channels, an empty batch's input) take the float32 host forward on decoded copies.
     */
    @Override
    public void forward(ConvGeometry g, DType dtype, short[] input, short[] kernel, short[] bias, short[] output) {
        HostOperands.forward(g, dtype, input, kernel, bias, output);
        if (output.length == 0) {
            return;
        }
        if (input.length == 0 || kernel.length == 0) {
            DecodedHalfForward.forward(this::forward, g, dtype, input, kernel, bias, output);
            return;
        }
        try (DeviceTensor x = DeviceTensor.upload(this, input, dtype, g.inputShape());
                DeviceTensor w = DeviceTensor.upload(this, kernel, dtype, g.kernelShape());
                DeviceTensor b = bias == null ? null : DeviceTensor.upload(this, bias, dtype, g.outChannels());
                DeviceTensor y = DeviceTensor.allocate(this, dtype, g.outputShape())) {
            forward(g, x, w, b, y);
            short[] bits = y.downloadBits();
            System.arraycopy(bits, 0, output, 0, bits.length);
        }
    }

    /**
     * The 16-bit host forward with an epilogue (see {@link ConvBackend}): as the plain one, with {@code scale} and
     * {@code shift} uploaded as float32 and {@code residual} as bits of {@code dtype}, the epilogue in the device
     * kernel's store before the output's one rounding.
     */
    @Override
    public void forward(ConvGeometry g, DType dtype, short[] input, short[] kernel, short[] bias,
            Epilogue<float[]> epilogue, short[] residual, short[] output) {
        HostOperands.forward(g, dtype, input, kernel, bias, output);
        HalfHostEpilogue.check(epilogue, dtype, residual, g.outChannels(), output.length);
        if (HalfHostEpilogue.isNone(epilogue, residual)) {
            forward(g, dtype, input, kernel, bias, output);
            return;
        }
        if (output.length == 0) {
            return;
        }
        if (input.length == 0 || kernel.length == 0) {
            DecodedHalfForward.forward(this::forward, g, dtype, input, kernel, bias, epilogue, residual, output);
            return;
        }
        float[] scale = epilogue == null ? null : epilogue.scale();
        float[] shift = epilogue == null ? null : epilogue.shift();
        int channels = g.outChannels();
        try (DeviceTensor x = DeviceTensor.upload(this, input, dtype, g.inputShape());
                DeviceTensor w = DeviceTensor.upload(this, kernel, dtype, g.kernelShape());
                DeviceTensor b = bias == null ? null : DeviceTensor.upload(this, bias, dtype, channels);
                DeviceTensor s = scale == null ? null : DeviceTensor.upload(this, Tensor.of(scale, channels));
                DeviceTensor t = shift == null ? null : DeviceTensor.upload(this, Tensor.of(shift, channels));
                DeviceTensor r = residual == null ? null : DeviceTensor.upload(this, residual, dtype, g.outputShape());
                DeviceTensor y = DeviceTensor.allocate(this, dtype, g.outputShape())) {
            Activation activation = epilogue == null ? Activation.identity() : epilogue.activation();
            forward(g, x, w, b, new Epilogue<>(activation, s, t, r), y);
            short[] bits = y.downloadBits();
            System.arraycopy(bits, 0, output, 0, bits.length);
        }
    }

    /**
     * {@code output = conv(input, kernel) + bias} from and into host arrays, with the kernel and bias (which may be
     * null) already on this device: the batch runs in chunks that pipeline through pinned staging memory (on a CPU
     * device, few chunks with direct copies). Returns when {@code output} holds the result.
     */
    public void forward(ConvGeometry g, float[] input, DeviceTensor kernel, DeviceTensor bias, float[] output) {
        host.forward(g, input, kernel, bias, output);
    }

    /** Enqueues {@code output = conv(input, kernel) + bias} on device tensors; {@code bias} may be null. */
    public void forward(ConvGeometry g, DeviceTensor input, DeviceTensor kernel, DeviceTensor bias,
            DeviceTensor output) {
        forward(null, g, input, kernel, bias, output);
    }

    /**
     * Enqueues {@code output = epilogue(conv(input, kernel) + bias)} on device tensors (see {@link Epilogue}), the
     * epilogue applied in the kernel's store; {@code bias} may be null, {@code epilogue} {@link Epilogue#none()}.
     * The epilogue's residual may be {@code output} itself (the in-place residual add): each element's residual is
     * read by the work-item that then stores that element, so the result is as if it had been read in full first.
     */
    public void forward(ConvGeometry g, DeviceTensor input, DeviceTensor kernel, DeviceTensor bias,
            Epilogue<DeviceTensor> epilogue, DeviceTensor output) {
        HostOperands.geometry(g);
        ops.forward(null, g, input, kernel, bias, epilogue, output);
    }

    /**
     * {@code output = epilogue(conv(input, kernel) + bias)} on host arrays, the epilogue in the kernel's store as in
     * the device-tensor form, which it runs (the operands uploaded, the result downloaded). A plain call (null or
     * {@link Epilogue#none()}) takes the pipelined host forward; one with an epilogue does not chunk its batch
     * (simpler: the residual would have to be staged chunk by chunk alongside the input).
     */
    @Override
    public void forward(ConvGeometry g, float[] input, float[] kernel, float[] bias, Epilogue<float[]> epilogue,
            float[] output) {
        if (epilogue == null || epilogue.isNone()) {
            forward(g, input, kernel, bias, output);
            return;
        }
        lifecycle.run(() -> HostCall.forward(this, g, input, kernel, bias, epilogue, output));
    }

    /**
     * Enqueues {@link #fold(EdgePadding, DeviceTensor, DeviceTensor, DeviceTensor)} with {@code epilogue} applied
     * in the fold's store; its residual may be {@code source} itself, as in the forward's.
     */
    public void fold(EdgePadding padding, DeviceTensor padded, DeviceTensor bias, Epilogue<DeviceTensor> epilogue,
            DeviceTensor source) {
        HostOperands.padding(padding);
        ops.fold(padding, padded, bias, epilogue, source);
    }

    /** {@link #fold(EdgePadding, float[], float[], float[])} with {@code epilogue} applied in the fold's store. */
    @Override
    public void fold(EdgePadding padding, float[] padded, float[] bias, Epilogue<float[]> epilogue, float[] source) {
        if (epilogue == null || epilogue.isNone()) {
            fold(padding, padded, bias, source);
            return;
        }
        lifecycle.run(() -> HostCall.fold(this, padding, padded, bias, epilogue, source));
    }

    /**
     * Enqueues {@code output = epilogue(output)} as a pass of its own over a channels-last {@code output} with
     * {@code channels} channels: the unfused form of the store's epilogue, which the bench compares the fused one
     * with. Every operand is checked before anything is enqueued: {@code channels} must divide the output's
     * length, the epilogue's scale and shift hold {@code channels} values and its residual the output's length, all
     * open tensors of this backend; a null epilogue is {@link Epilogue#none()}, which enqueues nothing.
     *
     * @hidden
     */
    public void epiloguePass(Epilogue<DeviceTensor> epilogue, int channels, DeviceTensor output) {
        ops.epiloguePass(epilogue, channels, output);
    }

    /**
     * Enqueues the backward of an {@link Epilogue} on device tensors, as {@code HostEpilogue.gradient} computes it
     * on the host (see {@code ConvOps.epilogueGradient}): {@code dz}, {@code dzConv} (skipped when null) and
     * {@code dconv} from {@code conv} and {@code dy}, all of {@code conv}'s length, which {@code channels} divides;
     * the epilogue's parts as for {@link #epiloguePass}. Outputs may be operands where the host allows it ({@code dz}
     * may be {@code dconv} without a scale). Every operand is checked before anything is enqueued.
     *
     * @hidden
     */
    public void epilogueGradient(Epilogue<DeviceTensor> epilogue, int channels, DeviceTensor conv, DeviceTensor dy,
            DeviceTensor dz, DeviceTensor dzConv, DeviceTensor dconv) {
        ops.epilogueGradient(epilogue, channels, conv, dy, dz, dzConv, dconv);
    }

    /**
     * The device-tensor forward with a given plan; internal (tuner, tests).
     *
     * @hidden
     */
    public void forward(ConvPlan plan, ConvGeometry g, DeviceTensor input, DeviceTensor kernel, DeviceTensor bias,
            DeviceTensor output) {
        HostOperands.geometry(g);
        ops.forward(plan, g, input, kernel, bias, output);
    }

    // Backward passes in kernels: the host-array forms run the device-tensor forms (HostCall), so both give the same bits.

    /** The kernel-gradient reduction in kernels; deterministic (see {@link ConvBackend#kernelGradient}). */
    @Override
    public void kernelGradient(ConvGeometry g, float[] input, float[] outputGradient, float[] kernelGradient) {
        lifecycle.run(() -> HostCall.kernelGradient(this, g, input, outputGradient, kernelGradient));
    }

    /** The bias-gradient column sums in kernels; deterministic. */
    @Override
    public void biasGradient(int rows, int channels, float[] outputGradient, float[] biasGradient) {
        lifecycle.run(() -> HostCall.biasGradient(this, rows, channels, outputGradient, biasGradient));
    }

    /**
     * The kernel gradient of 16-bit host bits (see {@link ConvBackend}): uploaded as they are, reduced by the
     * kernels on 16-bit tensors, the result's bits downloaded. Empty operands take the host form.
     */
    @Override
    public void kernelGradient(ConvGeometry g, DType dtype, short[] input, short[] outputGradient,
            short[] kernelGradient) {
        HalfHostGradients.checkKernelGradient(g, dtype, input, outputGradient, kernelGradient);
        if (input.length == 0 || outputGradient.length == 0 || kernelGradient.length == 0) {
            HalfHostGradients.kernelGradient(this::kernelGradient, g, dtype, input, outputGradient, kernelGradient);
            return;
        }
        try (DeviceTensor x = DeviceTensor.upload(this, input, dtype, g.inputShape());
                DeviceTensor dy = DeviceTensor.upload(this, outputGradient, dtype, g.outputShape());
                DeviceTensor dk = DeviceTensor.allocate(this, dtype, g.kernelShape())) {
            kernelGradient(g, x, dy, dk);
            short[] bits = dk.downloadBits();
            System.arraycopy(bits, 0, kernelGradient, 0, bits.length);
        }
    }

    /** The float32 bias gradient of 16-bit host bits (see {@link ConvBackend}), by the kernels on the uploaded bits. */
    @Override
    public void biasGradient(int rows, int channels, DType dtype, short[] outputGradient, float[] biasGradient) {
        HalfHostGradients.checkBiasGradient(rows, channels, dtype, outputGradient, biasGradient);
        if (outputGradient.length == 0 || channels == 0) {
            HalfHostGradients.biasGradient(this::biasGradient, rows, channels, dtype, outputGradient, biasGradient);
            return;
        }
        try (DeviceTensor dy = DeviceTensor.upload(this, outputGradient, dtype, rows, channels);
                DeviceTensor db = DeviceTensor.allocate(this, channels)) {
            biasGradient(dy, db);
            float[] values = db.download().data();
            System.arraycopy(values, 0, biasGradient, 0, values.length);
        }
    }

    @Override
    public void pad(EdgePadding padding, float[] source, float[] padded) {
        lifecycle.run(() -> HostCall.pad(this, padding, source, padded));
    }

    @Override
    public void fold(EdgePadding padding, float[] padded, float[] bias, float[] source) {
        lifecycle.run(() -> HostCall.fold(this, padding, padded, bias, source));
    }

    /** Enqueues the kernel gradient of {@code sum(conv(input, K) * outputGradient)}, {@code (*k, Cin/groups, Cout)}. */
    public void kernelGradient(ConvGeometry g, DeviceTensor input, DeviceTensor outputGradient,
            DeviceTensor kernelGradient) {
        HostOperands.geometry(g);
        ops.kernelGradient(g, input, outputGradient, kernelGradient);
    }

    /** Enqueues {@code biasGradient (C)} = the sum of {@code outputGradient (..., C)} over all but its last dim. */
    public void biasGradient(DeviceTensor outputGradient, DeviceTensor biasGradient) {
        ops.biasGradient(outputGradient, biasGradient);
    }

    /** Enqueues {@link #pad(EdgePadding, float[], float[])} on device tensors (batch dims may be several). */
    public void pad(EdgePadding padding, DeviceTensor source, DeviceTensor padded) {
        HostOperands.padding(padding);
        ops.pad(padding, source, padded);
    }

    /** Enqueues {@link #fold(EdgePadding, float[], float[], float[])} on device tensors; {@code bias} may be null. */
    public void fold(EdgePadding padding, DeviceTensor padded, DeviceTensor bias, DeviceTensor source) {
        HostOperands.padding(padding);
        ops.fold(padding, padded, bias, Epilogue.none(), source);
    }

    // Pooling in kernels (kernels/pooling.cl); the host-array forms run the device-tensor forms (HostCall).

    /**
     * flax's pooling in kernels: {@link ConvBackend#poolForward}'s result bit for bit (the same comparisons and
     * sums in the same order; AVG's divisions correctly rounded through double precision, so on a device without
     * it they may differ by the OpenCL float division's error).
     */
    @Override
    public void poolForward(PoolOp op, PoolGeometry geometry, float[] input, float[] output) {
        lifecycle.run(() -> HostCall.poolForward(this, op, geometry, input, output));
    }

    /**
     * The pooling of 16-bit host bits (see {@link ConvBackend}): uploaded as they are, pooled by the kernels on
     * 16-bit tensors, the output's bits downloaded. Returns when {@code output} holds the result.
     */
    @Override
    public void poolForward(PoolOp op, PoolGeometry geometry, DType dtype, short[] input, short[] output) {
        if (op == null || geometry == null || dtype == null || input == null || output == null || input.length == 0
                || output.length == 0 || dtype == DType.FLOAT32) {
            // The host form's checks and refusals, and its answer for empty operands.
            ConvBackend.super.poolForward(op, geometry, dtype, input, output);
            return;
        }
        HostOperands.length("input", input, geometry.inputShape());
        HostOperands.length("output", output, geometry.outputShape());
        try (DeviceTensor x = DeviceTensor.upload(this, input, dtype, geometry.inputShape());
                DeviceTensor y = DeviceTensor.allocate(this, dtype, geometry.outputShape())) {
            poolForward(op, geometry, x, y);
            short[] bits = y.downloadBits();
            System.arraycopy(bits, 0, output, 0, bits.length);
        }
    }

    /**
     * The pooling's input gradient in kernels, deterministic (a gather, no atomics): {@link ConvBackend#poolBackward}'s
     * result, as {@link #poolForward(PoolOp, PoolGeometry, float[], float[])} says.
     */
    @Override
    public void poolBackward(PoolOp op, PoolGeometry geometry, float[] input, float[] outputGradient,
            float[] inputGradient) {
        lifecycle.run(() -> HostCall.poolBackward(this, op, geometry, input, outputGradient, inputGradient));
    }

    /**
     * The pooling's input gradient of 16-bit host bits (see {@link ConvBackend}): uploaded as they are, computed by
     * the kernels on 16-bit tensors, the result's bits downloaded. Returns when {@code inputGradient} holds it.
     */
    @Override
    public void poolBackward(PoolOp op, PoolGeometry geometry, DType dtype, short[] input, short[] outputGradient,
            short[] inputGradient) {
        if (op == null || geometry == null || dtype == null || input == null || outputGradient == null
                || inputGradient == null || input.length == 0 || outputGradient.length == 0
                || dtype == DType.FLOAT32) {
            // The host form's checks and refusals, and its answer for empty operands.
            ConvBackend.super.poolBackward(op, geometry, dtype, input, outputGradient, inputGradient);
            return;
        }
        HostOperands.length("input", input, geometry.inputShape());
        HostOperands.length("outputGradient", outputGradient, geometry.outputShape());
        HostOperands.length("inputGradient", inputGradient, geometry.inputShape());
        try (DeviceTensor x = DeviceTensor.upload(this, input, dtype, geometry.inputShape());
                DeviceTensor dy = DeviceTensor.upload(this, outputGradient, dtype, geometry.outputShape());
                DeviceTensor dx = DeviceTensor.allocate(this, dtype, geometry.inputShape())) {
            poolBackward(op, geometry, x, dy, dx);
            short[] bits = dx.downloadBits();
            System.arraycopy(bits, 0, inputGradient, 0, bits.length);
        }
    }

    /**
     * Enqueues {@code output = pool(input)} on device tensors, channels-last, of exactly the geometry's input and
     * output shapes.
     */
    public void poolForward(PoolOp op, PoolGeometry geometry, DeviceTensor input, DeviceTensor output) {
        pooling.forward(op, geometry, input, output);
    }

    /**
     * Enqueues {@code inputGradient} (the input's shape) = the gradient of {@code sum(pool(input) * outputGradient)}
     * with respect to {@code input} on device tensors, channels-last ({@link PoolGeometry} says which element of a
     * window a MAX or MIN gradient goes to).
     */
    public void poolBackward(PoolOp op, PoolGeometry geometry, DeviceTensor input, DeviceTensor outputGradient,
            DeviceTensor inputGradient) {
        pooling.backward(op, geometry, input, outputGradient, inputGradient);
    }

    /** Enqueues {@code result = KernelLayout.flipSwap(kernel, groups)} on the device. */
    void flipSwap(DeviceTensor kernel, int groups, DeviceTensor result) {
        ops.flipSwap(kernel, groups, result);
    }

    /**
     * Enqueues {@code target = source} with the last two axes swapped: {@code source}'s values, viewed row-major as
     * {@code (batch, rows, cols)}, become {@code (batch, cols, rows)} in {@code target} (whatever the tensors'
     * shapes, each holding {@code batch * rows * cols} values); how channels-first layers reach channels-last.
     * Both tensors hold one type, any of the three: the elements move as their bits, unchanged.
     */
    void transpose(DeviceTensor source, int batch, int rows, int cols, DeviceTensor target) {
        ops.transpose(source, batch, rows, cols, target);
    }

    /** Enqueues {@code values *= factors} element-wise (a kernel mask on a kernel gradient). */
    void multiplyInPlace(DeviceTensor values, DeviceTensor factors) {
        ops.multiplyInPlace(values, factors);
    }

    /** Copies {@code tensor} to this device, into memory from the backend's caching allocator. */
    public DeviceTensor upload(Tensor tensor) {
        return tensors.upload(tensor);
    }

    /**
     * Copies {@code values} (its {@code remaining()} floats, as many as {@code shape} holds) to this device; a
     * direct buffer in native order from where it lies, with no copy on the Java heap. Its position is unchanged.
     */
    public DeviceTensor upload(FloatBuffer values, int... shape) {
        return tensors.upload(values, shape);
    }

    /** An uninitialised tensor of {@code shape} on this device, from the backend's caching allocator. */
    public DeviceTensor allocate(int... shape) {
        return tensors.allocate(shape);
    }

    /** Releases the device memory kept free for reuse (tensors in use keep theirs), for other users of the device. */
    public void trimMemory() {
        lifecycle.run(tensors::trim);
    }

    /** Device buffers in use now: open device tensors (layers' resident copies too) and calls' temporaries. */
    public long buffersInUse() {
        return tensors.buffersInUse();
    }

    /**
     * Device buffers the caching allocator has created for this backend's tensors and calls so far (reuses not
     * counted): a workload that runs again at the same shapes and creates none more runs from pooled memory.
     */
    public long buffersCreated() {
        return tensors.buffersCreated();
    }

    /**
     * Bytes of those buffers, in the allocator's size classes: as long as it has released none (its budget not
     * exceeded, no {@link #trimMemory()}), the most device memory this backend's tensors and calls have held.
     */
    public long bufferBytesCreated() {
        return tensors.bufferBytesCreated();
    }

    /**
     * The most bytes of buffers this backend's tensors and calls held at once, in the allocator's size classes: at
     * most {@link #bufferBytesCreated()}; the difference is what the allocator kept free meanwhile.
     */
    public long peakBufferBytesInUse() {
        return tensors.peakBufferBytesInUse();
    }

    /**
     * Waits for every command submitted so far; a failure of asynchronous work is thrown as an
     * {@link OpenClException} naming the call (among the last {@value CallLog#CAPACITY}).
     */
    public void finish() {
        ops.finish();
    }

    public boolean isClosed() {
        return lifecycle.isClosed();
    }

    /** Whether this is a JVM-wide shared backend ({@link #shared}), whose users may not close it. */
    @Override
    public boolean isShared() {
        return lifecycle.isShared();
    }

    /**
     * Closes a private backend: waits for calls in flight, then releases everything it created. Idempotent.
     *
     * @throws IllegalStateException when this is a shared backend ({@link #isShared()}), which stays open
     */
    @Override
    public void close() {
        if (lifecycle.isShared()) {
            throw lifecycle.sharedCloseRefused(context.device().describe());
        }
        release();
    }

    /** Really closes this backend, shared ({@link SharedBackends}) or not ({@link #close()}). */
    void release() {
        lifecycle.release(() -> {
            ops.close();
            cache.close();
            tensors.trim();
            context.close();
        });
    }

    // For the package: device tensors, host calls, tests.

    TensorTransfers tensors() {
        return tensors;
    }

    /** See {@link DeviceOps#record}. */
    void record(DeviceTensor output, Production work) {
        ops.record(output, work);
    }

    /** Floats copied from Java arrays to this device so far: tensors, parameters and host-array inputs. */
    long uploadedFloats() {
        return tensors.uploadedFloats() + host.uploadedFloats();
    }


    PlanCache plans() {
        return cache;
    }

    /** float16 and bfloat16 conversions on this backend's device buffers. */
    DeviceConversions conversions() {
        return conversions;
    }

    OpenClContext context() {
        return context;
    }
}
