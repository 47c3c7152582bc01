package org.convcl.opencl.internal.runtime;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Library-wide counts of live OpenCL objects, so that a test (or a long-running service) can check that
 * whatever was created has been released: take a {@link #snapshot()} before, do the work, close what was
 * opened, and compare. Counts only what this library creates. Thread-safe.
 */
public final class NativeResources {
    private static final AtomicLong BUFFERS = new AtomicLong();
    private static final AtomicLong PROGRAMS = new AtomicLong();
    private static final AtomicLong KERNELS = new AtomicLong();
    private static final AtomicLong CONTEXTS = new AtomicLong();
    private static final AtomicLong QUEUES = new AtomicLong();
    /** Buffers ever created (live or not): what a steady-state loop must not raise. */
    private static final AtomicLong BUFFERS_CREATED = new AtomicLong();

    private NativeResources() {
    }

    /** Counts of live objects at one moment. */
    public record Counts(long buffers, long programs, long kernels, long contexts, long queues) {
        @Override
        public String toString() {
            return "buffers=" + buffers + ", programs=" + programs + ", kernels=" + kernels + ", contexts="
                    + contexts + ", queues=" + queues;
        }
    }

    /** The current counts of live buffers, programs, kernels, contexts and command queues. */
    public static Counts snapshot() {
        return new Counts(BUFFERS.get(), PROGRAMS.get(), KERNELS.get(), CONTEXTS.get(), QUEUES.get());
    }

    /** Live device buffers (memory objects) created by the library. */
    public static long liveBuffers() {
        return BUFFERS.get();
    }

    /**
     * Device buffers (memory objects, pinned staging included) the library has created since the JVM started,
     * released or not: a loop that allocates and frees a buffer per call leaves {@link #liveBuffers()} flat but
     * raises this.
     */
    public static long buffersCreated() {
        return BUFFERS_CREATED.get();
    }

    /** Live programs created by the library. */
    public static long livePrograms() {
        return PROGRAMS.get();
    }

    /** Live kernel objects created by the library. */
    public static long liveKernels() {
        return KERNELS.get();
    }

    /** The kinds of object counted. */
    enum Kind {
        BUFFER(BUFFERS), PROGRAM(PROGRAMS), KERNEL(KERNELS), CONTEXT(CONTEXTS), QUEUE(QUEUES);

        private final AtomicLong counter;

        Kind(AtomicLong counter) {
            this.counter = counter;
        }

        void created() {
            counter.incrementAndGet();
            if (this == BUFFER) {
                BUFFERS_CREATED.incrementAndGet();
            }
        }

        void released() {
            counter.decrementAndGet();
        }
    }
}
