package org.convcl.opencl.internal.runtime;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * Ownership of one OpenCL object: released exactly once by {@link #close()}, counted in
 * {@link NativeResources} while alive, and loud when used after closing. Closing is thread-safe and
 * idempotent; closing an object while another thread is still enqueueing work with it is a caller error
 * (work already enqueued is safe: OpenCL keeps an object alive until the commands using it finish).
 */
public abstract class NativeObject implements AutoCloseable {
    private final NativeResources.Kind kind;
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile Consumer<NativeObject> onClose;

    /** Call once the native object exists: from here on it is counted as live. */
    NativeObject(NativeResources.Kind kind) {
        this.kind = kind;
        kind.created();
    }

    /** Registers the owner's bookkeeping, run once when this object is closed. */
    final void onClose(Consumer<NativeObject> callback) {
        this.onClose = callback;
    }

    /** Throws {@link IllegalStateException} when this object has been closed. */
    final void ensureOpen() {
        if (closed.get()) {
            throw new IllegalStateException(describe() + " has been closed and cannot be used");
        }
    }

    public final boolean isClosed() {
        return closed.get();
    }

    @Override
    public final void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            release();
        } finally {
            kind.released();
            Consumer<NativeObject> callback = onClose;
            if (callback != null) {
                callback.accept(this);
            }
        }
    }

    /** Releases the native object; called once. */
    abstract void release();

    /** What this is, for messages: {@code buffer of 4096 bytes on #0 NVIDIA H100}. */
    abstract String describe();
}
