package org.convcl.opencl;

import java.util.concurrent.CancellationException;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import org.convcl.opencl.internal.runtime.ClEvents;
import org.jocl.CL;
import org.jocl.cl_event;

/**
 * Asynchronous work that writes a device tensor: the event of its last command, and the call that enqueued it,
 * named lazily (a string is built only when something failed). Errors of asynchronous work are reported by
 * OpenCL only through such events, so whoever waits for one reports a failure naming the call, not the wait.
 *
 * <p>Each holder (the tensor written, the backend's {@link CallLog}) holds its own reference to the event:
 * {@link #retain()} for another holder, {@link #release()} when done.
 */
final class Production {
    private static final long FIRST_PAUSE_NANOS = 10_000;
    private static final long LONGEST_PAUSE_NANOS = 100_000;
    private final cl_event event;
    private final Supplier<String> call;

    /** Takes over the caller's reference to {@code event}. */
    Production(cl_event event, Supplier<String> call) {
        this.event = event;
        this.call = call;
    }

    /** One more reference, for one more holder. */
    Production retain() {
        ClEvents.retain(event);
        return this;
    }

    void release() {
        ClEvents.release(event);
    }

    /** Waits for the work; a failure is thrown naming the call and what it was writing. */
    void await(Object target) {
        int status = ClEvents.await(event);
        if (status < 0) {
            throw failure(status, target);
        }
    }

    /**
     * As {@link #await}, except that the calling thread, if interrupted while waiting, stops waiting with a
     * {@link CancellationException} naming the call (its flag stays set; the work itself runs to its end on the
     * device, which no OpenCL call can stop). The host-array calls wait this way, so that an interrupted caller
     * gets control back within about a millisecond however long the kernels take. The status is polled, with
     * pauses that double from {@value #FIRST_PAUSE_NANOS} ns to {@value #LONGEST_PAUSE_NANOS} ns: a short call
     * is seen complete almost at once, a long one costs a status query every fraction of a millisecond. The
     * caller must have flushed the queues the work is on.
     */
    void awaitUnlessInterrupted(Object target) {
        long pause = FIRST_PAUSE_NANOS;
        int status = status();
        while (status > 0) {
            if (Thread.currentThread().isInterrupted()) {
                throw new CancellationException(call.get() + " interrupted while waiting for its device work"
                        + (target == null ? "" : " (writing " + target + ")"));
            }
            LockSupport.parkNanos(pause);
            pause = Math.min(LONGEST_PAUSE_NANOS, pause * 2);
            status = status();
        }
        if (status < 0) {
            throw failure(status, target);
        }
    }

    /** The execution status now, without waiting: 0 when complete, positive while pending, negative on failure. */
    int status() {
        return ClEvents.status(event);
    }

    OpenClException failure(int status, Object target) {
        return new OpenClException("the asynchronous work of " + call.get() + (target == null ? "" : " (writing "
                + target + ")"), status, CL.stringFor_errorCode(status), null);
    }
}
