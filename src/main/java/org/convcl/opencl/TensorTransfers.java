package org.convcl.opencl;

import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.function.Consumer;
import org.convcl.DType;
import org.convcl.Tensor;
import org.convcl.opencl.internal.plan.BatchChunks;
import org.convcl.opencl.internal.runtime.BufferPool;
import org.convcl.opencl.internal.runtime.ClBuffer;
import org.convcl.opencl.internal.runtime.HostTransfers;
import org.convcl.opencl.internal.runtime.OpenClContext;
import org.convcl.opencl.internal.runtime.StagingPolicy;
import org.convcl.opencl.internal.runtime.StagingPool;

/**
 * The device memory of an {@link OpenClBackend} and the copies between its tensors and the host: tensors get
 * their buffers from a caching allocator ({@link BufferPool}) and give them back when closed; uploads, downloads
 * and writes go through {@link HostTransfers} (pinned staging from a {@link StagingPool} on a discrete device,
 * {@link StagingPolicy}) or, for direct buffers, straight from where the floats lie. Every call runs under the
 * backend's {@link Lifecycle}. Thread-safe.
 */
final class TensorTransfers {
    /** Pinned host memory kept for reuse between transfers; more is pinned while needed, then released. */
    private static final long STAGING_CAPACITY_BYTES = 128L << 20;

    private final OpenClBackend backend;
    private final Lifecycle lifecycle;
    private final OpenClContext context;
    private final BufferPool pool;
    private final StagingPool staging;
    /** Whether host arrays move through pinned staging ({@link StagingPolicy}); else by direct blocking copies. */
    private final boolean staged;
    private final HostTransfers transfers;
    private final BatchChunks chunks;
    /** The float16 and bfloat16 tensors' transfers, to which the float32 calls hand such tensors. */
    private final HalfTensorTransfers halves;

    TensorTransfers(OpenClBackend backend, Lifecycle lifecycle, OpenClContext context, BatchChunks chunks) {
        this.backend = backend;
        this.lifecycle = lifecycle;
        this.context = context;
        this.chunks = chunks;
        this.pool = new BufferPool(context, Math.max(64L << 20, context.device().globalMemoryBytes() / 4));
        this.staging = new StagingPool(context, STAGING_CAPACITY_BYTES);
        this.staged = StagingPolicy.staged(context.device());
        this.transfers = new HostTransfers(context, staging, (int) Math.min(Integer.MAX_VALUE,
                chunks.pipelineChunkBytes()), staged);
        this.halves = new HalfTensorTransfers(backend, lifecycle, context, this);
    }

    HalfTensorTransfers halves() {
        return halves;
    }

    /** The copies between host arrays and device buffers. */
    HostTransfers host() {
        return transfers;
    }

    BufferPool pool() {
        return pool;
    }

    StagingPool staging() {
        return staging;
    }

    boolean staged() {
        return staged;
    }

    /** See {@link OpenClBackend#trimMemory()}; also the last step of a release, without the lifecycle. */
    void trim() {
        pool.trim();
        staging.trim();
    }

    DeviceTensor allocate(int[] shape) {
        return allocate(DType.FLOAT32, shape);
    }

    /** An uninitialised tensor of {@code shape} holding {@code dtype} (size x dtype.bytes() of device memory). */
    DeviceTensor allocate(DType dtype, int[] shape) {
        int size = (int) Tensor.elementCount(shape);
        chunks.checkBuffer((long) dtype.bytes() * size, "tensor " + Arrays.toString(shape));
        return lifecycle.guarded(() -> new DeviceTensor(backend, pool.acquire((long) dtype.bytes() * size,
                () -> "tensor " + Arrays.toString(shape)), shape, size, dtype));
    }

    DeviceTensor upload(Tensor tensor) {
        if (tensor == null) {
            throw new IllegalArgumentException("tensor: got null; expected a Tensor to copy to " + backend.name());
        }
        return filled(tensor.shape(), tensor.size(),
                buffer -> transfers.upload(tensor.data(), 0, tensor.size(), buffer, 0));
    }

    /** See {@link OpenClBackend#upload(FloatBuffer, int...)}. */
    DeviceTensor upload(FloatBuffer values, int[] shape) {
        int size = checkedFloats("values", values, shape);
        chunks.checkBuffer(4L * size, "tensor " + Arrays.toString(shape));
        if (!values.isDirect()) {
            float[] copy = new float[size];
            values.duplicate().get(copy);
            return upload(Tensor.of(copy, shape));
        }
        return filled(shape, size, buffer -> context.write(buffer, values));
    }

    private DeviceTensor filled(int[] shape, int size, Consumer<ClBuffer> fill) {
        return filled(DType.FLOAT32, shape, size, fill);
    }

    /**
     * A tensor of {@code dtype} over a buffer from the pool that {@code fill} writes; the buffer goes back if that
     * fails.
     */
    DeviceTensor filled(DType dtype, int[] shape, int size, Consumer<ClBuffer> fill) {
        chunks.checkBuffer((long) dtype.bytes() * size, "tensor " + Arrays.toString(shape));
        return lifecycle.guarded(() -> {
            ClBuffer buffer = pool.acquire((long) dtype.bytes() * size, () -> "tensor " + Arrays.toString(shape));
            try {
                fill.accept(buffer);
            } catch (RuntimeException e) {
                pool.release(buffer);
                throw e;
            }
            return new DeviceTensor(backend, buffer, shape, size, dtype);
        });
    }

    /** Takes back the memory of a closed device tensor (released instead when the backend is closed). */
    void recycle(ClBuffer buffer) {
        lifecycle.either(() -> pool.release(buffer), buffer::close);
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
        if (tensor.dtype() != DType.FLOAT32) {
            halves.download(tensor, target);
            return;
        }
        awaitForHost(tensor);
        lifecycle.run(() -> transfers.download(tensor.buffer(), 0, target, 0, tensor.size()));
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
        if (tensor.dtype() != DType.FLOAT32) {
            halves.download(tensor, target);
            return;
        }
        awaitForHost(tensor);
        lifecycle.run(() -> context.read(tensor.buffer(), target));
    }

    /**
     * Waits for the work writing {@code tensor} before a download, stopping with a
     * {@link java.util.concurrent.CancellationException} if the caller is interrupted meanwhile: a host-array call
     * (a backward pass, whose kernel gradient can take seconds) then stops as a forward call does, between its
     * steps, instead of returning normally long after the interrupt.
     */
    void awaitForHost(DeviceTensor tensor) {
        checkOwn(tensor);
        lifecycle.run(() -> {
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
        if (tensor.dtype() != DType.FLOAT32) {
            halves.write(tensor, values);
            return;
        }
        lifecycle.run(() -> transfers.upload(values.data(), 0, values.size(), tensor.buffer(), 0));
    }

    /** Device buffers in use now (see {@link OpenClBackend#buffersInUse()}). */
    long buffersInUse() {
        return pool.inUse();
    }

    /** Device buffers created so far (reuses not counted). */
    long buffersCreated() {
        return pool.created();
    }

    /** Bytes of the device buffers created for tensors and calls so far (see {@link BufferPool#createdBytes()}). */
    long bufferBytesCreated() {
        return pool.createdBytes();
    }

    /** See {@link BufferPool#peakInUseBytes()}. */
    long peakBufferBytesInUse() {
        return pool.peakInUseBytes();
    }

    /** Floats copied from Java arrays into tensors so far. */
    long uploadedFloats() {
        return transfers.uploadedFloats();
    }

    void checkOwn(DeviceTensor tensor) {
        if (tensor.backend() != backend) {
            throw new IllegalArgumentException(tensor + " belongs to another backend than " + backend.name());
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
}
