package org.convcl.opencl;

import java.nio.FloatBuffer;
import java.util.Arrays;
import org.convcl.Tensor;

/**
 * A float32 tensor resident in one device's memory: a buffer, a row-major shape and the backend (device)
 * it lives on. Layers applied to a DeviceTensor return a DeviceTensor on the same device without touching
 * the host ({@code Conv.apply(DeviceTensor)}), so a chain of layers moves data only at its ends.
 *
 * <p>A DeviceTensor owns its device memory: close it (try-with-resources) when done. Its memory comes from the
 * backend's caching allocator and goes back there on close, so tensors made and closed in a loop allocate no
 * device memory after the first round. Closing the backend releases every tensor still open on it. A closed
 * tensor throws {@link IllegalStateException} on use.
 * Thread-safe for concurrent reads ({@link #download()}, use as an input); the caller orders writes.
 */
public final class DeviceTensor implements AutoCloseable {
    private final OpenClBackend backend;
    private final ClBuffer buffer;
    private final int[] shape;
    private final int size;
    private volatile boolean closed;

    /** A tensor over {@code buffer} (at least {@code size} floats), which closing gives back to the backend. */
    DeviceTensor(OpenClBackend backend, ClBuffer buffer, int[] shape, int size) {
        this.backend = backend;
        this.buffer = buffer;
        this.shape = shape.clone();
        this.size = size;
    }

    /** Copies {@code tensor} to {@code backend}'s device. */
    public static DeviceTensor upload(OpenClBackend backend, Tensor tensor) {
        return backend.upload(tensor);
    }

    /** An uninitialised tensor of {@code shape} on {@code backend}'s device. */
    public static DeviceTensor allocate(OpenClBackend backend, int... shape) {
        return backend.allocate(shape);
    }

    /** Copies the values back to the host, after every command already submitted on the device. */
    public Tensor download() {
        return backend.download(this);
    }

    /**
     * Overwrites this tensor's contents with {@code values}, which must have its shape; the copy happens after
     * every command already submitted on the device (and waits for them).
     */
    public void write(Tensor values) {
        backend.write(this, values);
    }

    /**
     * Copies the values into {@code target}'s {@code remaining()} floats (as many as this tensor has), after every
     * command already submitted on the device. A direct buffer in native order receives them with no staging copy
     * on the Java heap. The buffer's position is left unchanged.
     */
    public void download(FloatBuffer target) {
        backend.download(this, target);
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

    /** Gives the device memory back to the backend's allocator; later use throws. Idempotent. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        backend.recycle(buffer);
    }

    @Override
    public String toString() {
        return "DeviceTensor" + Arrays.toString(shape) + " on " + backend.device().name();
    }
}
