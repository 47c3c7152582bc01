package org.convcl.opencl;

import org.convcl.opencl.device.OpenClException;
import org.convcl.opencl.device.OpenClDevice;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.util.Arrays;
import org.convcl.DType;
import org.convcl.Tensor;
import org.convcl.opencl.internal.runtime.ClBuffer;

/**
 * A tensor resident in one device's memory: a buffer, a row-major shape, its element type ({@link #dtype()}) and
 * the backend (device) it lives on. Layers applied to a DeviceTensor return a DeviceTensor on the same device without touching
 * the host ({@code Conv.apply(DeviceTensor)}), so a chain of layers moves data only at its ends.
 *
 * <p>A DeviceTensor owns its device memory: close it (try-with-resources) when done. Its memory comes from the
 * backend's caching allocator and goes back there on close, so tensors made and closed in a loop allocate no
 * device memory after the first round. Closing the backend releases every tensor still open on it. A closed
 * tensor throws {@link IllegalStateException} on use.
 *
 * <p>Asynchronous. Calls that write a tensor ({@code Conv.apply}, {@code forward}, {@code backward}) enqueue their
 * work and return; the tensor keeps the event of the work that last wrote it. {@link #await()} waits for that
 * work alone, {@link #isReady()} asks without waiting, and {@link #download()} waits for it before copying.
 * OpenCL reports errors of asynchronous work only when it is waited for: such an error is thrown by the next
 * wait ({@link #await()}, a download, or the backend's {@code finish()}) as an {@link OpenClException} naming
 * the call that failed.
 *
 * <p>Element types. The operations (convolution, gradients, epilogue, pooling, layout) take float32 tensors, which
 * every factory without a {@link DType} makes. A tensor may also hold {@link DType#FLOAT16} or {@link DType#BFLOAT16}
 * (two bytes an element): uploaded from their bit patterns ({@code short[]} or a {@link ShortBuffer}, as ONNX
 * Runtime's Java API passes them), or from a float32 {@link Tensor} rounded to nearest even on the device; read
 * back as bits ({@link #downloadBits()}) or as float32 values ({@link #download()}, widened on the device). The
 * operations refuse such tensors for now, naming the operand: half-precision compute is not built yet.
 *
 * <p>Thread-safe for concurrent reads ({@link #download()}, use as an input); the caller orders writes.
 */
public final class DeviceTensor implements AutoCloseable {
    private final OpenClBackend backend;
    private final ClBuffer buffer;
    private final int[] shape;
    private final int size;
    private final DType dtype;
    private volatile boolean closed;
    /** The work that last wrote this tensor and may not be complete yet; null when there is none. */
    private Production producer;

    /**
     * A tensor of {@code dtype} over {@code buffer} (at least {@code size} elements of it), which closing gives back
     * to the backend.
     */
    DeviceTensor(OpenClBackend backend, ClBuffer buffer, int[] shape, int size, DType dtype) {
        this.backend = backend;
        this.buffer = buffer;
        this.shape = shape.clone();
        this.size = size;
        this.dtype = dtype;
    }

    /** Copies {@code tensor} to {@code backend}'s device. */
    public static DeviceTensor upload(OpenClBackend backend, Tensor tensor) {
        return checkedBackend(backend).upload(tensor);
    }

    /** An uninitialised tensor of {@code shape} on {@code backend}'s device. */
    public static DeviceTensor allocate(OpenClBackend backend, int... shape) {
        return checkedBackend(backend).allocate(shape);
    }

    /**
     * Copies {@code tensor}'s float32 values to {@code backend}'s device as a tensor of {@code dtype}: for
     * {@link DType#FLOAT16} and {@link DType#BFLOAT16} the floats are uploaded, then rounded to nearest even on the
     * device (as {@link org.convcl.HalfFloats} rounds), asynchronously: the tensor's {@link #await()} waits for
     * the conversion; {@link DType#FLOAT32} is {@link #upload(OpenClBackend, Tensor)}.
     */
    public static DeviceTensor upload(OpenClBackend backend, Tensor tensor, DType dtype) {
        return checkedBackend(backend).tensors().halves().upload(tensor, dtype);
    }

    /**
     * Copies {@code bits}, IEEE binary16 ({@link DType#FLOAT16}) or bfloat16 ({@link DType#BFLOAT16}) bit patterns,
     * one per element of {@code shape} in row-major order, to {@code backend}'s device as they are.
     *
     * @throws IllegalArgumentException when {@code dtype} is not a 16-bit type or the length is not the shape's
     */
    public static DeviceTensor upload(OpenClBackend backend, short[] bits, DType dtype, int... shape) {
        return checkedBackend(backend).tensors().halves().upload(bits, dtype, shape);
    }

    /**
     * As {@link #upload(OpenClBackend, short[], DType, int...)} from the {@code remaining()} shorts of
     * {@code bits} (its position is left unchanged). A direct buffer, which must be in native order, is copied
     * from where the shorts lie, with no staging copy on the Java heap.
     */
    public static DeviceTensor upload(OpenClBackend backend, ShortBuffer bits, DType dtype, int... shape) {
        return checkedBackend(backend).tensors().halves().upload(bits, dtype, shape);
    }

    /** An uninitialised tensor of {@code shape} holding {@code dtype} on {@code backend}'s device. */
    public static DeviceTensor allocate(OpenClBackend backend, DType dtype, int... shape) {
        if (dtype == null) {
            throw new IllegalArgumentException("dtype: got null; expected FLOAT32, FLOAT16 or BFLOAT16");
        }
        return checkedBackend(backend).tensors().allocate(dtype, shape);
    }

    private static OpenClBackend checkedBackend(OpenClBackend backend) {
        if (backend == null) {
            throw new IllegalArgumentException("backend: got null; expected an OpenClBackend");
        }
        return backend;
    }

    /**
     * Copies the values back to the host once the work that wrote them is complete (later work, on the device or
     * enqueued by other threads, is not waited for). A failure of that work is thrown naming its call. A float16
     * or bfloat16 tensor's values are widened to float32 on the device first (exactly: every such value is a
     * float32 one).
     */
    public Tensor download() {
        return backend.tensors().download(this);
    }

    /**
     * Waits until the work that last wrote this tensor is complete and returns this tensor; an error of that
     * work is thrown as an {@link OpenClException} naming the call (for example {@code convolution ...}).
     */
    public DeviceTensor await() {
        return await(false);
    }

    /**
     * As {@link #await()}, except that a calling thread interrupted while waiting stops waiting with a
     * {@link java.util.concurrent.CancellationException} naming the call (its interrupt flag stays set). The work
     * itself runs to its end on the device, which OpenCL cannot stop; later calls queue behind it. This is how the
     * host-tensor calls wait, so that interrupting their caller stops them as it stops a Java-path call.
     */
    public DeviceTensor awaitUnlessInterrupted() {
        backend.tensors().awaitForHost(this);
        return this;
    }

    /**
     * As {@link #await()}; when {@code stopOnInterrupt}, an interrupted caller stops waiting with a
     * {@link java.util.concurrent.CancellationException} ({@code Production.awaitUnlessInterrupted}; the queues
     * must have been flushed).
     */
    DeviceTensor await(boolean stopOnInterrupt) {
        Production work;
        synchronized (this) {
            work = producer == null ? null : producer.retain();
        }
        if (work == null) {
            return this;
        }
        try {
            if (stopOnInterrupt) {
                work.awaitUnlessInterrupted(this);
            } else {
                work.await(this);
            }
        } finally {
            work.release();
        }
        synchronized (this) {
            if (producer == work) {
                // Complete: nothing to wait for any more (a failure keeps it, and is thrown again).
                producer.release();
                producer = null;
            }
        }
        return this;
    }

    /** Whether the work that last wrote this tensor has ended (a failed one too: {@link #await()} reports it). */
    public boolean isReady() {
        Production work;
        synchronized (this) {
            work = producer == null ? null : producer.retain();
        }
        if (work == null) {
            return true;
        }
        try {
            return work.status() <= 0;
        } finally {
            work.release();
        }
    }

    /** Records {@code work} as what now writes this tensor, taking over the caller's reference. */
    void produced(Production work) {
        Production previous;
        synchronized (this) {
            previous = producer;
            producer = work;
        }
        if (previous != null) {
            previous.release();
        }
    }

    /**
     * Overwrites this tensor's contents with {@code values}, which must have its shape; the copy happens after
     * every command already submitted on the device (and waits for them). A float16 or bfloat16 tensor receives
     * the values rounded to its type on the device, asynchronously ({@link #await()} waits for that).
     */
    public void write(Tensor values) {
        if (values == null) {
            throw new IllegalArgumentException("values: got null; expected a Tensor of shape "
                    + Arrays.toString(shape));
        }
        backend.tensors().write(this, values);
    }

    /**
     * Copies the values into {@code target}'s {@code remaining()} floats (as many as this tensor has), after every
     * command already submitted on the device. A direct buffer in native order receives them with no staging copy
     * on the Java heap. The buffer's position is left unchanged. A float16 or bfloat16 tensor's values are
     * widened to float32 first, as {@link #download()} does.
     */
    public void download(FloatBuffer target) {
        backend.tensors().download(this, target);
    }

    /**
     * The bit patterns of a float16 or bfloat16 tensor, as they lie on the device, once the work that wrote them
     * is complete (as {@link #download()}).
     *
     * @throws IllegalArgumentException for a float32 tensor, whose values {@link #download()} gives
     */
    public short[] downloadBits() {
        return backend.tensors().halves().downloadBits(this);
    }

    /**
     * As {@link #downloadBits()} into the {@code remaining()} shorts of {@code target} (exactly this tensor's
     * size; its position is left unchanged). A direct buffer, which must be in native order, receives them with no
     * staging copy on the Java heap.
     */
    public void downloadBits(ShortBuffer target) {
        backend.tensors().halves().downloadBits(this, target);
    }

    public int[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    /** Number of elements. */
    public int size() {
        return size;
    }

    /** How the elements are stored: {@link DType#FLOAT32} unless the tensor was made with another type. */
    public DType dtype() {
        return dtype;
    }

    /** Device memory the elements take: {@link #size()} times {@code dtype().bytes()}. */
    public long bytes() {
        return (long) size * dtype.bytes();
    }

    /** The backend (one device, one context) this tensor lives on. */
    public OpenClBackend backend() {
        return backend;
    }

    public OpenClDevice device() {
        return backend.device();
    }

    public boolean isClosed() {
        return closed || buffer.isClosed();
    }

    /** The device buffer, checked open. */
    ClBuffer buffer() {
        if (isClosed()) {
            throw new IllegalStateException(this + " has been closed (or its backend was) and cannot be used");
        }
        return buffer;
    }

    /**
     * Gives the device memory back to the backend's allocator; later use throws. Idempotent. Work still writing
     * the tensor is not waited for: the allocator hands the memory out only to work queued after it.
     */
    @Override
    public void close() {
        Production work;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            work = producer;
            producer = null;
        }
        if (work != null) {
            work.release();
        }
        backend.tensors().recycle(buffer);
    }

    @Override
    public String toString() {
        return "DeviceTensor" + Arrays.toString(shape) + (dtype == DType.FLOAT32 ? "" : " " + dtype.cliName())
                + " on " + backend.device().name();
    }
}
