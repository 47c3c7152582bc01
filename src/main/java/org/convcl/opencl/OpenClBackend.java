package org.convcl.opencl;

import org.convcl.opencl.device.OpenClException;
import org.convcl.opencl.device.OpenClDevice;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;
import org.convcl.ConvGeometry;
import org.convcl.EdgePadding;
import org.convcl.Tensor;
import org.convcl.backend.ConvBackend;
import org.convcl.internal.BoundedShutdown;
import org.convcl.backend.internal.HostOperands;
import org.convcl.opencl.internal.runtime.ProgramBinaryCache;
import org.convcl.opencl.internal.runtime.ProgramCache.Stats;
import org.convcl.opencl.internal.plan.BatchChunks;
import org.convcl.opencl.internal.plan.ConvPlan;
import org.convcl.opencl.internal.plan.KernelConfig;
import org.convcl.opencl.internal.plan.LayoutKernel;
import org.convcl.opencl.internal.plan.PipelinedForward;
import org.convcl.opencl.internal.plan.PlanKey;
import org.convcl.opencl.internal.probe.ProvenVariants;
import org.convcl.opencl.internal.runtime.BufferPool;
import org.convcl.opencl.internal.runtime.ClBuffer;
import org.convcl.opencl.internal.runtime.HostTransfers;
import org.convcl.opencl.internal.runtime.KernelEvents;
import org.convcl.opencl.internal.runtime.OpenClContext;
import org.convcl.opencl.internal.runtime.StagingPolicy;
import org.convcl.opencl.internal.runtime.StagingPool;
import org.convcl.opencl.internal.tuning.DefaultConfigs;
import org.convcl.opencl.internal.tuning.TuningDatabase;
import org.jocl.cl_event;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Convolutions on one OpenCL device: one context with a compute queue and transfer queues
 * ({@link OpenClContext}), plans compiled once per shape and cached, device memory from a caching allocator
 * ({@link BufferPool}), and device-resident {@link DeviceTensor}s.
 *
 * <p>Host arrays ({@link #forward(ConvGeometry, float[], float[], float[], float[])}) are copied in, computed
 * and copied out by each call, which returns with the result: on a discrete device through pinned staging in
 * chunks that pipeline, on a CPU device by direct copies ({@link StagingPolicy}). Device tensors
 * ({@link #forward(ConvGeometry, DeviceTensor, DeviceTensor, DeviceTensor, DeviceTensor)}) stay on the device;
 * such calls only enqueue work and return, the output tensor keeps the event of that work, and
 * {@link DeviceTensor#await()}, its download, or {@link #finish()} waits for it (and reports its failure by
 * the call's name).
 *
 * <p>Thread-safe: any number of threads may call concurrently; their commands run in submission order.
 *
 * <p>Ownership. An instance made with {@link #create} is private: it belongs to its caller, who closes it
 * ({@link #close()} waits for calls in flight, then releases everything the backend created, including device
 * tensors still open). The instances {@code Backends} hands out ({@code Backends.select},
 * {@code Backends.openClBackend}) are shared, one per device for the whole JVM, and used by every layer that
 * selected them: {@link #isShared()} says so, and their {@link #close()} throws
 * {@link IllegalStateException} instead of pulling the device from under those layers. {@code Backends}
 * releases them at JVM exit or in {@code Backends.closeShared()}, through the {@link SharedBackendOwner} only it
 * holds.
 */
public final class OpenClBackend implements ConvBackend {
    private static final Logger LOG = LoggerFactory.getLogger(OpenClBackend.class);

    private final OpenClContext context;
    private final BufferPool pool;
    private final StagingPool staging;
    private final HostTransfers transfers;
    private final PipelinedForward pipelined;
    private final BatchChunks chunks;
    /** Whether host arrays move through pinned staging ({@link StagingPolicy}); else by direct blocking copies. */
    private final boolean staged;
    private final ClBuffer placeholder;
    private final GradientOps gradients;
    /** The axis moves of channels-first layers, compiled on the first one ({@link #transpose}). */
    private volatile LayoutKernel layoutKernel;
    private final Object layoutLock = new Object();
    /** Recent asynchronous calls, so that {@link #finish()} names one that failed. */
    private final CallLog calls = new CallLog();
    private final Map<PlanKey, ConvPlan> plans = new ConcurrentHashMap<>();
    /** Pinned host memory kept for reuse between transfers; more is pinned while needed, then released. */
    private static final long STAGING_CAPACITY_BYTES = 128L << 20;
    /** Bound on remembered call signatures; past it the memo starts over (plans themselves stay). */
    private static final int MAX_RESOLVED = 4096;
    private final Map<CallSignature, ResolvedPlan> resolved = new ConcurrentHashMap<>();
    private final Object planLock = new Object();
    private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
    /** Whether this is a JVM-wide instance of {@code Backends}: only its {@link SharedBackendOwner} releases it. */
    private final boolean shared;
    private volatile boolean closed;

    private OpenClBackend(OpenClContext context, boolean shared) {
        this.context = context;
        this.shared = shared;
        this.chunks = BatchChunks.forDevice(context.device());
        this.pool = new BufferPool(context, Math.max(64L << 20, context.device().globalMemoryBytes() / 4));
        this.staging = new StagingPool(context, STAGING_CAPACITY_BYTES);
        this.staged = StagingPolicy.staged(context.device());
        this.transfers = new HostTransfers(context, staging, (int) Math.min(Integer.MAX_VALUE,
                chunks.pipelineChunkBytes()), staged);
        this.pipelined = new PipelinedForward(context, pool, staging);
        this.placeholder = context.allocate(0, "bias placeholder");
        this.gradients = new GradientOps(this, context, pool);
    }

    /**
     * A new private backend (its own context and queue) on {@code device}: the caller owns it and closes it,
     * which releases everything it created. Layers built on it stop working when it is closed.
     */
    public static OpenClBackend create(OpenClDevice device) {
        return new OpenClBackend(OpenClContext.create(checkedDevice(device)), false);
    }

    /** A new private backend whose compiled programs are cached in {@code binaries} (one of a null directory: none). */
    static OpenClBackend create(OpenClDevice device, ProgramBinaryCache binaries) {
        return new OpenClBackend(OpenClContext.create(device, binaries), false);
    }

    /**
     * A new shared backend on {@code device}, for a registry such as {@code Backends}: the backend refuses
     * {@link #close()} from its users, and only the returned owner, which the registry keeps, releases it.
     * Applications get the JVM-wide shared backends from {@code Backends} and their own from {@link #create}.
     */
    public static SharedBackendOwner createShared(OpenClDevice device) {
        return new SharedBackendOwner(new OpenClBackend(OpenClContext.create(checkedDevice(device)), true));
    }

    /** {@code device}, refused by name when null (a context would fail on it with a bare NullPointerException). */
    static OpenClDevice checkedDevice(OpenClDevice device) {
        if (device == null) {
            throw new IllegalArgumentException("device: got null; expected an OpenClDevice (DeviceDiscovery.discover)");
        }
        return device;
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
     * The plan (compiled kernel and blocking) for {@code g} with the default config, built on first use.
     * Internal (the tuner's and the tests'): {@code ConvPlan} is an internal type.
     *
     * @hidden
     */
    public ConvPlan plan(ConvGeometry g, boolean hasBias) {
        HostOperands.geometry(g);
        return guarded(() -> defaultPlan(g, hasBias));
    }

    /**
     * The plan for {@code g} with an explicit config (a tuner's choice), built on first use. Internal (the
     * tuner's and the tests'): {@code ConvPlan} and {@code KernelConfig} are internal types.
     *
     * @hidden
     */
    public ConvPlan plan(ConvGeometry g, boolean hasBias, KernelConfig config) {
        HostOperands.geometry(g);
        if (config == null) {
            throw new IllegalArgumentException("config: got null; expected a KernelConfig");
        }
        return guarded(() -> cachedPlan(g, hasBias, config));
    }

    /**
     * {@code output = conv(input, kernel) + bias} on host arrays: the kernel and bias are uploaded for this call,
     * then the batch runs as {@link #forward(ConvGeometry, float[], DeviceTensor, DeviceTensor, float[])} does.
     */
    @Override
    public void forward(ConvGeometry g, float[] input, float[] kernel, float[] bias, float[] output) {
        HostOperands.forward(g, input, kernel, bias, output);
        if (output.length == 0) {
            return;
        }
        // Refused before anything is uploaded: a batch element or kernel the device cannot hold.
        chunks.pipeline(g, bias != null);
        try (DeviceTensor weights = upload(Tensor.of(kernel, g.kernelShape()));
                DeviceTensor biasValues = bias == null ? null : upload(Tensor.of(bias, g.outChannels()))) {
            forward(g, input, weights, biasValues, output);
        }
    }

    /**
     * {@code output = conv(input, kernel) + bias} from and into host arrays, with the kernel and bias already on
     * this device (a layer's resident copies): the batch runs in chunks that pipeline through pinned staging
     * memory, uploading one chunk while the device computes another and a third comes back
     * ({@link PipelinedForward}); on a CPU device, in as few chunks as fit, with direct copies
     * ({@link StagingPolicy}). Returns when {@code output} holds the result. {@code bias} may be null.
     */
    public void forward(ConvGeometry g, float[] input, DeviceTensor kernel, DeviceTensor bias, float[] output) {
        HostOperands.geometry(g);
        HostOperands.length("input", input, g.inputShape());
        checkTensor("kernel", kernel, g.kernelShape());
        if (bias != null) {
            checkTensor("bias", bias, new int[] {g.outChannels()});
        }
        HostOperands.length("output", output, g.outputShape());
        if (output.length == 0) {
            return;
        }
        BatchChunks.Pipeline pipeline = chunks.pipeline(g, bias != null);
        int wholeChunk = staged ? 0 : chunks.elementsPerChunk(g, bias != null);
        run(() -> {
            ConvPlan plan = defaultPlan(g, bias != null);
            ClBuffer biasBuffer = bias == null ? placeholder : bias.buffer();
            if (staged) {
                pipelined.run(plan, g, input, kernel.buffer(), biasBuffer, output, pipeline);
            } else {
                pipelined.runDirect(plan, g, input, kernel.buffer(), biasBuffer, output, wholeChunk);
            }
        });
    }

    /**
     * Enqueues {@code output = conv(input, kernel) + bias} on device tensors of this backend and returns
     * without waiting. {@code bias} may be null; {@code output} must not be {@code input}.
     */
    public void forward(ConvGeometry g, DeviceTensor input, DeviceTensor kernel, DeviceTensor bias,
            DeviceTensor output) {
        forward(null, g, input, kernel, bias, output);
    }

    /**
     * As {@link #forward(ConvGeometry, DeviceTensor, DeviceTensor, DeviceTensor, DeviceTensor)} with a given plan.
     * Internal (the tuner's and the tests'): {@code ConvPlan} is an internal type.
     *
     * @hidden
     */
    public void forward(ConvPlan plan, ConvGeometry g, DeviceTensor input, DeviceTensor kernel, DeviceTensor bias,
            DeviceTensor output) {
        HostOperands.geometry(g);
        checkTensor("input", input, g.inputShape());
        checkTensor("kernel", kernel, g.kernelShape());
        if (bias != null) {
            checkTensor("bias", bias, new int[] {g.outChannels()});
        }
        checkTensor("output", output, g.outputShape());
        if (output == input || output == kernel || output == bias) {
            throw new IllegalArgumentException("output: " + output + " is also an operand; a convolution cannot "
                    + "write over its own input");
        }
        if (plan != null && !plan.accepts(g, bias != null)) {
            throw new IllegalArgumentException("plan: " + plan + " was built for another geometry or bias setting than "
                    + g + " (bias " + (bias != null) + ")");
        }
        if (output.size() == 0) {
            return;
        }
        produce(output, () -> "convolution " + g, () -> {
            ConvPlan chosen = plan != null ? plan : defaultPlan(g, bias != null);
            ClBuffer biasBuffer = bias == null ? placeholder : bias.buffer();
            ClBuffer rows = chosen.phaseBiasRows(context, pool, kernel.buffer(), biasBuffer);
            try {
                chosen.enqueue(context, g.batch(), input.buffer(), 0, kernel.buffer(), biasBuffer, rows,
                        output.buffer(), 0);
            } finally {
                // Safe while the kernel still runs: the compute queue is in order, so a later user waits.
                pool.release(rows);
            }
        });
    }

    // ---- Backward-pass operations, in kernels (GradientOps). The host-array forms check their arrays, then run
    // the device-tensor forms over pooled memory (HostCall): one execution path, the same bits. ----

    /** The kernel-gradient reduction in kernels; deterministic (see {@link ConvBackend#kernelGradient}). */
    @Override
    public void kernelGradient(ConvGeometry g, float[] input, float[] outputGradient, float[] kernelGradient) {
        HostOperands.kernelGradient(g, input, outputGradient, kernelGradient);
        run(() -> HostCall.run(this, new Tensor[] {Tensor.of(input, g.inputShape()),
                Tensor.of(outputGradient, g.outputShape())}, kernelGradient, g.kernelShape(),
                (in, result) -> kernelGradient(g, in[0], in[1], result)));
    }

    /** The bias-gradient column sums in kernels; deterministic. */
    @Override
    public void biasGradient(int rows, int channels, float[] outputGradient, float[] biasGradient) {
        HostOperands.biasGradient(rows, channels, outputGradient, biasGradient);
        run(() -> HostCall.run(this, new Tensor[] {Tensor.of(outputGradient, rows, channels)}, biasGradient,
                new int[] {channels}, (in, result) -> biasGradient(in[0], result)));
    }

    @Override
    public void pad(EdgePadding padding, float[] source, float[] padded) {
        HostOperands.pad(padding, source, padded);
        run(() -> HostCall.run(this, new Tensor[] {Tensor.of(source, padding.sourceShape())}, padded,
                padding.paddedShape(), (in, result) -> pad(padding, in[0], result)));
    }

    @Override
    public void fold(EdgePadding padding, float[] padded, float[] bias, float[] source) {
        HostOperands.fold(padding, padded, bias, source);
        run(() -> HostCall.run(this, new Tensor[] {Tensor.of(padded, padding.paddedShape()),
                bias == null ? null : Tensor.of(bias, padding.channels())}, source, padding.sourceShape(),
                (in, result) -> fold(padding, in[0], in[1], result)));
    }

    /**
     * Enqueues the kernel gradient of {@code sum(conv(input, K) * outputGradient)} into {@code kernelGradient}
     * {@code (*k, Cin/groups, Cout)}, on device tensors of this backend, and returns without waiting.
     */
    public void kernelGradient(ConvGeometry g, DeviceTensor input, DeviceTensor outputGradient,
            DeviceTensor kernelGradient) {
        HostOperands.geometry(g);
        produce(kernelGradient, () -> "kernel gradient of " + g,
                () -> gradients.kernelGradient(g, input, outputGradient, kernelGradient));
    }

    /** Enqueues {@code biasGradient (C)} = the sum of {@code outputGradient (..., C)} over all but its last dim. */
    public void biasGradient(DeviceTensor outputGradient, DeviceTensor biasGradient) {
        produce(biasGradient, () -> "bias gradient of " + outputGradient,
                () -> gradients.biasGradient(outputGradient, biasGradient));
    }

    /** Enqueues {@link #pad(EdgePadding, float[], float[])} on device tensors (batch dims may be several). */
    public void pad(EdgePadding padding, DeviceTensor source, DeviceTensor padded) {
        HostOperands.padding(padding);
        produce(padded, () -> "edge padding " + padding, () -> gradients.pad(padding, source, padded));
    }

    /** Enqueues {@link #fold(EdgePadding, float[], float[], float[])} on device tensors; {@code bias} may be null. */
    public void fold(EdgePadding padding, DeviceTensor padded, DeviceTensor bias, DeviceTensor source) {
        HostOperands.padding(padding);
        produce(source, () -> "edge fold " + padding, () -> gradients.fold(padding, padded, bias, source));
    }

    /** Enqueues {@code result = KernelLayout.flipSwap(kernel, groups)} on the device. */
    public void flipSwap(DeviceTensor kernel, int groups, DeviceTensor result) {
        produce(result, () -> "kernel flip of " + kernel + " (groups " + groups + ")",
                () -> gradients.flipSwap(kernel, groups, result));
    }

    /**
     * Enqueues {@code target = source} with the last two axes swapped: {@code source}'s values, viewed row-major as
     * {@code (batch, rows, cols)}, become {@code (batch, cols, rows)} in {@code target}; returns without waiting.
     * The tensors' own shapes do not matter, only that each holds {@code batch * rows * cols} values. This is how
     * channels-first layers move their tensors to and from the channels-last order the kernels compute in, on the
     * device ({@code kernels/layout.cl}).
     */
    public void transpose(DeviceTensor source, int batch, int rows, int cols, DeviceTensor target) {
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
            if (tensor.backend() != this) {
                throw new IllegalArgumentException("transpose: " + what + " " + tensor + " lives on another backend "
                        + "than " + name() + "; every operand of a call must be on the same one");
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
        produce(target, () -> "transpose of " + source + " as (" + batch + ", " + rows + ", " + cols + ")", () -> {
            if (count > 0) {
                layoutKernel().transpose(context, batch, rows, cols, source.buffer(), target.buffer());
            }
        });
    }

    private LayoutKernel layoutKernel() {
        LayoutKernel kernel = layoutKernel;
        if (kernel == null) {
            synchronized (layoutLock) {
                kernel = layoutKernel;
                if (kernel == null) {
                    kernel = LayoutKernel.create(context);
                    layoutKernel = kernel;
                }
            }
        }
        return kernel;
    }

    /** Enqueues {@code values *= factors} element-wise (a kernel mask on a kernel gradient). */
    public void multiplyInPlace(DeviceTensor values, DeviceTensor factors) {
        produce(values, () -> "element-wise product of " + values + " and " + factors,
                () -> gradients.multiplyInPlace(values, factors));
    }

    /** Copies {@code tensor} to this device, into memory from the backend's caching allocator. */
    public DeviceTensor upload(Tensor tensor) {
        if (tensor == null) {
            throw new IllegalArgumentException("tensor: got null; expected a Tensor to copy to " + name());
        }
        chunks.checkBuffer(4L * tensor.size(), "tensor " + Arrays.toString(tensor.shape()));
        return guarded(() -> {
            ClBuffer buffer = pool.acquire(4L * tensor.size(), () -> "tensor " + Arrays.toString(tensor.shape()));
            try {
                transfers.upload(tensor.data(), 0, tensor.size(), buffer, 0);
            } catch (RuntimeException e) {
                pool.release(buffer);
                throw e;
            }
            return new DeviceTensor(this, buffer, tensor.shape(), tensor.size());
        });
    }

    /**
     * Copies {@code values} (its {@code remaining()} floats, which must be as many as {@code shape} holds) to this
     * device. A direct buffer in native order is copied from where it lies, with no staging copy on the Java heap
     * (memory from {@code ByteBuffer.allocateDirect(...).order(ByteOrder.nativeOrder()).asFloatBuffer()}, or
     * mapped from a file); a heap buffer goes through its array. The buffer's position is left unchanged.
     */
    public DeviceTensor upload(FloatBuffer values, int... shape) {
        int size = checkedFloats("values", values, shape);
        chunks.checkBuffer(4L * size, "tensor " + Arrays.toString(shape));
        if (!values.isDirect()) {
            float[] copy = new float[size];
            values.duplicate().get(copy);
            return upload(Tensor.of(copy, shape));
        }
        return guarded(() -> {
            ClBuffer buffer = pool.acquire(4L * size, () -> "tensor " + Arrays.toString(shape));
            try {
                context.write(buffer, values);
            } catch (RuntimeException e) {
                pool.release(buffer);
                throw e;
            }
            return new DeviceTensor(this, buffer, shape, size);
        });
    }

    /** Copies {@code tensor}'s values into {@code target} (see {@link DeviceTensor#download(FloatBuffer)}). */
    void download(DeviceTensor tensor, FloatBuffer target) {
        checkOwn(tensor);
        checkedFloats("target", target, tensor.shape());
        if (target.isReadOnly()) {
            throw new IllegalArgumentException("target: a read-only buffer cannot receive " + tensor);
        }
        if (!target.isDirect()) {
            target.duplicate().put(download(tensor).data());
            return;
        }
        awaitForHost(tensor);
        run(() -> context.read(tensor.buffer(), target));
    }

    private void checkOwn(DeviceTensor tensor) {
        if (tensor.backend() != this) {
            throw new IllegalArgumentException(tensor + " belongs to another backend than " + name());
        }
    }

    /** The floats {@code shape} holds, after checking that {@code buffer} has exactly that many remaining. */
    private static int checkedFloats(String what, FloatBuffer buffer, int[] shape) {
        if (buffer == null) {
            throw new IllegalArgumentException(what + ": got null; expected a FloatBuffer of "
                    + Tensor.elementCount(shape) + " floats for shape " + Arrays.toString(shape));
        }
        long expected = Tensor.elementCount(shape);
        if (buffer.remaining() != expected) {
            throw new IllegalArgumentException(what + ": " + buffer.remaining() + " floats remain in the buffer but "
                    + "shape " + Arrays.toString(shape) + " holds " + expected + "; they must be equal");
        }
        if (buffer.isDirect() && buffer.order() != ByteOrder.nativeOrder()) {
            throw new IllegalArgumentException(what + ": a direct buffer in " + buffer.order() + " order; the device "
                    + "reads floats in the machine's order (" + ByteOrder.nativeOrder()
                    + "): make it with .order(ByteOrder.nativeOrder()) before asFloatBuffer()");
        }
        return (int) expected;
    }

    /** An uninitialised tensor of {@code shape} on this device, from the backend's caching allocator. */
    public DeviceTensor allocate(int... shape) {
        int size = (int) Tensor.elementCount(shape);
        chunks.checkBuffer(4L * size, "tensor " + Arrays.toString(shape));
        return guarded(() -> new DeviceTensor(this, pool.acquire(4L * size, () -> "tensor " + Arrays.toString(shape)),
                shape, size));
    }

    /** Takes back the memory of a closed device tensor (released instead when the backend is closed). */
    void recycle(ClBuffer buffer) {
        Lock lock = lifecycle.readLock();
        lock.lock();
        try {
            if (closed) {
                buffer.close();
            } else {
                pool.release(buffer);
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Releases the device memory the caching allocator keeps free for reuse (tensors in use keep theirs); for
     * giving memory back to other users of the device. Allocation failures do this by themselves.
     */
    public void trimMemory() {
        run(() -> {
            pool.trim();
            staging.trim();
        });
    }

    /**
     * Device buffers of this backend in use now: open device tensors (layers' resident copies included) and the
     * temporaries of calls in flight. Closed tensors' memory is free for reuse and not counted.
     */
    public long buffersInUse() {
        return pool.inUse();
    }

    /** Floats copied from Java arrays to this device so far: tensors, parameters and host-array inputs. */
    long uploadedFloats() {
        return transfers.uploadedFloats() + pipelined.uploadedFloats();
    }

    /** Device buffers created for this backend's tensors and calls so far (reuses not counted). */
    public long buffersCreated() {
        return pool.created();
    }

    Tensor download(DeviceTensor tensor) {
        checkOwn(tensor);
        float[] values = new float[tensor.size()];
        download(tensor, values);
        return Tensor.of(values, tensor.shape());
    }

    /** Copies {@code tensor}'s values into {@code target} (as many floats) once the work writing them is complete. */
    void download(DeviceTensor tensor, float[] target) {
        checkOwn(tensor);
        awaitForHost(tensor);
        run(() -> transfers.download(tensor.buffer(), 0, target, 0, tensor.size()));
    }

    /**
     * Waits for the work writing {@code tensor} before a download, stopping with a
     * {@link java.util.concurrent.CancellationException} if the caller is interrupted meanwhile: a host-array call
     * (a backward pass, whose kernel gradient can take seconds) then stops as a forward call does, between its
     * steps, instead of returning normally long after the interrupt.
     */
    void awaitForHost(DeviceTensor tensor) {
        checkOwn(tensor);
        run(() -> {
            context.flush();
            tensor.await(true);
        });
    }

    /** Copies {@code values} (of the tensor's shape) over {@code tensor}'s contents, after earlier commands. */
    void write(DeviceTensor tensor, Tensor values) {
        checkOwn(tensor);
        if (!Arrays.equals(tensor.shape(), values.shape())) {
            throw new IllegalArgumentException("values: shape " + Arrays.toString(values.shape()) + " differs from "
                    + tensor + "'s; a write keeps the tensor's shape");
        }
        run(() -> transfers.upload(values.data(), 0, values.size(), tensor.buffer(), 0));
    }

    /**
     * Waits until every command submitted so far on this device has completed. An error of asynchronous work
     * is thrown as an {@link OpenClException} naming the call that failed (among the last
     * {@value CallLog#CAPACITY} calls; an older failure is still reported, by the first finish after it was seen).
     */
    public void finish() {
        run(() -> {
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

    /** Plans built so far. */
    public int planCount() {
        return plans.size();
    }

    /** How programs were obtained so far (memory, disk binary, source); for tests and diagnostics. */
    Stats programStats() {
        return context.programs().stats();
    }

    OpenClContext context() {
        return context;
    }

    public boolean isClosed() {
        return closed;
    }

    /** Whether this is a JVM-wide shared backend from {@code Backends}, whose users may not close it. */
    @Override
    public boolean isShared() {
        return shared;
    }

    /**
     * Closes a private backend (from {@link #create}): waits for calls in flight, then releases plans, pooled
     * buffers, open device tensors and the context. Idempotent. Layers and device tensors on it stop working.
     *
     * @throws IllegalStateException when this is a shared backend ({@link #isShared()}); it stays open and
     *     working, since every layer that selected it uses it
     */
    @Override
    public void close() {
        if (shared) {
            throw new IllegalStateException(name() + " is the JVM-wide shared backend of OpenCL device "
                    + context.device().describe() + ", used by every layer that selected it, so its users may not "
                    + "close it: it is released at JVM exit or by Backends.closeShared(). For a backend you own and "
                    + "may close, use OpenClBackend.create(device).");
        }
        release();
    }

    /** Really closes this backend, shared or not: {@link #close()} for a private one, the owner for a shared one. */
    void release() {
        Lock lock = lifecycle.writeLock();
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            // Skipped when a shutdown hook gave up waiting for this lock: the JVM may be exiting (BoundedShutdown).
            boolean released = BoundedShutdown.releaseNatives(() -> {
                calls.clear();
                plans.values().forEach(ConvPlan::close);
                plans.clear();
                resolved.clear();
                gradients.close();
                synchronized (layoutLock) {
                    if (layoutKernel != null) {
                        layoutKernel.close();
                        layoutKernel = null;
                    }
                }
                pool.trim();
                staging.trim();
                context.close();
            });
            LOG.debug(released ? "closed {}" : "closed {}, its OpenCL objects left to the process's end", name());
        } finally {
            lock.unlock();
        }
    }

    /** A default plan found for a call, valid while the tuning databases have not changed. */
    private record ResolvedPlan(long tuningGeneration, ConvPlan plan) {
    }

    /**
     * The hot path's plan lookup: repeated calls find their plan by {@link CallSignature} alone, without building
     * strings or reading settings, until a tuning database changes. (A cache directory changed while the backend
     * is in use therefore applies to geometries it has not seen yet, or after the next tuning write.)
     */
    private ConvPlan defaultPlan(ConvGeometry g, boolean hasBias) {
        long generation = TuningDatabase.generation();
        CallSignature signature = CallSignature.of(g, hasBias);
        ResolvedPlan hit = resolved.get(signature);
        if (hit != null && hit.tuningGeneration() == generation) {
            return hit.plan();
        }
        ConvPlan plan = resolveDefaultPlan(g, hasBias);
        if (resolved.size() >= MAX_RESOLVED) {
            resolved.clear();
        }
        resolved.put(signature, new ResolvedPlan(generation, plan));
        return plan;
    }

    private ConvPlan resolveDefaultPlan(ConvGeometry g, boolean hasBias) {
        // A fast path beyond the portable kernels serves calls only once proven on this device (probed on first use).
        KernelConfig config = ProvenVariants.admit(context, g, DefaultConfigs.choose(g, context.device()));
        try {
            return cachedPlan(g, hasBias, config);
        } catch (IllegalArgumentException e) {
            if (config instanceof KernelConfig.General) {
                throw e;
            }
            // The device cannot run this blocking (e.g. the compiled kernel's work-group limit is lower than
            // the device's); the general kernel runs anywhere.
            LOG.debug("{} on {}: {}; using the general kernel", g, name(), e.getMessage());
            return cachedPlan(g, hasBias, new KernelConfig.General(
                    (int) Math.max(1, Math.min(64, context.device().maxWorkGroupSize()))));
        }
    }

    private ConvPlan cachedPlan(ConvGeometry g, boolean hasBias, KernelConfig config) {
        PlanKey key = PlanKey.of(g, hasBias, config);
        ConvPlan plan = plans.get(key);
        if (plan != null) {
            return plan;
        }
        synchronized (planLock) {
            plan = plans.get(key);
            if (plan == null) {
                plan = ConvPlan.create(context, g, hasBias, config);
                plans.put(key, plan);
                LOG.debug("planned {} on {}", plan, name());
            }
            return plan;
        }
    }

    /**
     * Enqueues {@code action}'s kernels, which write {@code output}, and records their last event as the work
     * producing it ({@link DeviceTensor#await()}) and in the call log ({@link #finish()}), under {@code call}'s name.
     */
    private void produce(DeviceTensor output, Supplier<String> call, Runnable action) {
        run(() -> {
            cl_event last = KernelEvents.lastLaunchOf(action);
            if (last != null) {
                record(output, new Production(last, call));
            }
        });
    }

    /** Records {@code work} as what writes {@code output} now, and in the call log; takes over its reference. */
    void record(DeviceTensor output, Production work) {
        calls.add(work);
        output.produced(work);
    }

    private void run(Runnable action) {
        guarded(() -> {
            action.run();
            return null;
        });
    }

    /** Runs {@code action} unless (and while not) the backend is closed. */
    private <T> T guarded(Supplier<T> action) {
        Lock lock = lifecycle.readLock();
        lock.lock();
        try {
            if (closed) {
                throw new IllegalStateException(name() + " has been closed and cannot be used" + (shared
                        ? "; it was a shared backend, released by Backends.closeShared(): Backends gives a new one, "
                        + "and layers built on this one must be built again" : ""));
            }
            return action.get();
        } finally {
            lock.unlock();
        }
    }

    private void checkTensor(String what, DeviceTensor tensor, int[] expectedShape) {
        if (tensor == null) {
            throw new IllegalArgumentException(what + ": got null; expected a DeviceTensor of shape "
                    + Arrays.toString(expectedShape));
        }
        if (tensor.backend() != this) {
            throw new IllegalArgumentException(what + ": " + tensor + " lives on another backend than " + name()
                    + "; every operand of a call must be on the same one");
        }
        OperandChecks.open(what, tensor);
        if (!Arrays.equals(tensor.shape(), expectedShape)) {
            throw new IllegalArgumentException(what + ": shape " + Arrays.toString(tensor.shape())
                    + " does not match the geometry's " + Arrays.toString(expectedShape));
        }
    }
}
