package org.convcl.opencl;

import org.convcl.opencl.device.OpenClException;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import org.convcl.opencl.internal.runtime.ClEvents;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.EventCallbackFunction;
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
    /** How often a thread sleeping on the event's callback reads its status all the same. */
    private static final long CHECK_MILLIS = 50;
    private final cl_event event;
    private final Supplier<String> call;
    /** The event's end, from its callback once a wait registered it (guarded by this). */
    private CompletableFuture<Void> end;
    /** Held while the driver may still call it (guarded by this). */
    @SuppressWarnings("unused")
    private EventCallbackFunction callback;
    /** Whether the driver refused the callback (an OpenCL 1.0 driver): waits poll (guarded by this). */
    private boolean callbackRefused;
    /** Whether a watcher thread is reading the status now. */
    private final AtomicBoolean watching = new AtomicBoolean();
    /**
     * Daemon threads that read event statuses for sleeping waiters; a driver may hold one in that read until the
     * work ends (rusticl does), so they are not the waiters, and idle ones end after a minute.
     */
    private static final ExecutorService STATUS_WATCHERS = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 60,
            TimeUnit.SECONDS, new SynchronousQueue<>(), runnable -> {
                Thread thread = new Thread(runnable, "convcl-event-status");
                thread.setDaemon(true);
                return thread;
            });

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
     * gets control back at once however long the kernels take. The thread sleeps until the driver reports the
     * event's end through an event callback ({@code clSetEventCallback}), so that it takes no CPU meanwhile (a
     * status poll every fraction of a millisecond took CPU from a CPU device's kernels, or a core beside a GPU).
     *
     * <p>The callback only wakes the thread; the status is then read from the event. Neither PoCL nor rusticl
     * calls a callback registered before a command fails (seen with user events set to an error), and PoCL reports
     * 0 to one registered after: so a watcher thread also reads the status every {@value #CHECK_MILLIS} ms,
     * which bounds how late a failure is seen at no cost worth counting (a watcher, since rusticl holds a status
     * read until the command has run, and the waiter must stay free to answer an interrupt). A driver that refuses callbacks (OpenCL
     * 1.0) is polled, with pauses that double from {@value #FIRST_PAUSE_NANOS} ns to
     * {@value #LONGEST_PAUSE_NANOS} ns. The caller must have flushed the queues the work is on.
     */
    void awaitUnlessInterrupted(Object target) {
        // No status read before the wait: rusticl answers a status query only once the command has run (its
        // event lock is held meanwhile), which would hold an interrupted caller for the whole kernel. A callback
        // registered on an event that has ended is called at once.
        CompletableFuture<Void> end = end();
        int status = end == null ? pollUnlessInterrupted(target) : sleepUnlessInterrupted(end, target);
        if (status < 0) {
            throw failure(status, target);
        }
    }

    /**
     * Completed by the driver's callback when the event ends, registered on the first wait (later waits, on any
     * thread, share it); null when the driver refuses the callback. The callback runs on a driver thread and only
     * completes the future. JOCL keeps the callback object alive until it is called; this holds it too.
     */
    private synchronized CompletableFuture<Void> end() {
        if (end == null && !callbackRefused) {
            CompletableFuture<Void> future = new CompletableFuture<>();
            EventCallbackFunction notify = (ended, status, data) -> future.complete(null);
            try {
                CL.clSetEventCallback(event, CL.CL_COMPLETE, notify, null);
            } catch (CLException e) {
                callbackRefused = true;
                return null;
            }
            callback = notify;
            end = future;
        }
        return end;
    }

    /**
     * Sleeps until {@code end} completes, then reads the status. Every {@value #CHECK_MILLIS} ms a watcher thread
     * reads the status meanwhile and completes {@code end} on a failure, which no driver reports through the
     * callback; the watcher, not this thread, is the one a driver may hold in that read until the work ends.
     */
    private int sleepUnlessInterrupted(CompletableFuture<Void> end, Object target) {
        while (true) {
            try {
                end.get(CHECK_MILLIS, TimeUnit.MILLISECONDS);
                return status();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // kept set: the caller's own code looks at it too
                if (end.isDone()) {
                    return status(); // the work had ended: the call's result stands
                }
                throw interrupted(target);
            } catch (TimeoutException e) {
                watchStatus(end);
            } catch (ExecutionException e) {
                throw new IllegalStateException("the event callback of " + call.get() + " failed", e.getCause());
            }
        }
    }

    /** One status read on a watcher thread (at most one at a time per event), completing {@code end} if ended. */
    private void watchStatus(CompletableFuture<Void> end) {
        if (!watching.compareAndSet(false, true)) {
            return;
        }
        ClEvents.retain(event); // the holders may release theirs while the watcher reads
        try {
            STATUS_WATCHERS.execute(() -> {
                try {
                    if (status() <= 0) {
                        end.complete(null);
                    }
                } finally {
                    ClEvents.release(event);
                    watching.set(false);
                }
            });
        } catch (RuntimeException e) {
            ClEvents.release(event);
            watching.set(false);
            throw e;
        }
    }

    /** The wait for a driver without event callbacks: the status, polled with growing pauses. */
    private int pollUnlessInterrupted(Object target) {
        long pause = FIRST_PAUSE_NANOS;
        int status = status();
        while (status > 0) {
            if (Thread.currentThread().isInterrupted()) {
                throw interrupted(target);
            }
            LockSupport.parkNanos(pause);
            pause = Math.min(LONGEST_PAUSE_NANOS, pause * 2);
            status = status();
        }
        return status;
    }

    private CancellationException interrupted(Object target) {
        return new CancellationException(call.get() + " interrupted while waiting for its device work"
                + (target == null ? "" : " (writing " + target + ")"));
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
