package org.convcl.opencl;

import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;
import org.convcl.internal.BoundedShutdown;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether an {@link OpenClBackend} is open, and who may close it: calls run under a read lock while it is open;
 * the release takes the write lock, so it waits for calls in flight, and runs once. A shared backend (one per
 * device for the JVM, {@link SharedBackends}) refuses its users' {@code close()}; only its registry releases it.
 */
final class Lifecycle {
    private static final Logger LOG = LoggerFactory.getLogger(Lifecycle.class);

    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final Supplier<String> name;
    private final boolean shared;
    private volatile boolean closed;

    /** For a backend called {@code name} (for messages), {@code shared} or private. */
    Lifecycle(Supplier<String> name, boolean shared) {
        this.name = name;
        this.shared = shared;
    }

    boolean isShared() {
        return shared;
    }

    boolean isClosed() {
        return closed;
    }

    void run(Runnable action) {
        guarded(() -> {
            action.run();
            return null;
        });
    }

    /** Runs {@code action} unless (and while not) the backend is closed. */
    <T> T guarded(Supplier<T> action) {
        Lock read = lock.readLock();
        read.lock();
        try {
            if (closed) {
                throw new IllegalStateException(name.get() + " has been closed and cannot be used" + (shared
                        ? "; it was a shared backend, released by Backends.closeShared(): Backends gives a new one, "
                        + "and layers built on this one must be built again" : ""));
            }
            return action.get();
        } finally {
            read.unlock();
        }
    }

    /** Runs {@code whileOpen} if the backend is open, else {@code afterClose}, with no release in between. */
    void either(Runnable whileOpen, Runnable afterClose) {
        Lock read = lock.readLock();
        read.lock();
        try {
            (closed ? afterClose : whileOpen).run();
        } finally {
            read.unlock();
        }
    }

    /** The refusal of a user's {@code close()} of a shared backend on {@code device}. */
    IllegalStateException sharedCloseRefused(String device) {
        return new IllegalStateException(name.get() + " is the JVM-wide shared backend of OpenCL device " + device
                + ", used by every layer that selected it, so its users may not close it: it is released at JVM "
                + "exit or by Backends.closeShared(). For a backend you own and may close, use "
                + "OpenClBackend.create(device).");
    }

    /**
     * Marks the backend closed once calls in flight are done, then runs {@code releaseNatives}; idempotent.
     * The natives are skipped when a shutdown hook gave up waiting for the lock: the JVM may be exiting
     * ({@link BoundedShutdown}).
     */
    void release(Runnable releaseNatives) {
        Lock write = lock.writeLock();
        write.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            boolean released = BoundedShutdown.releaseNatives(releaseNatives);
            LOG.debug(released ? "closed {}" : "closed {}, its OpenCL objects left to the process's end", name.get());
        } finally {
            write.unlock();
        }
    }
}
