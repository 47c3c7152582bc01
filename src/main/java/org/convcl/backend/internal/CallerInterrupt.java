package org.convcl.backend.internal;

import java.util.concurrent.CancellationException;

/**
 * How a Java-path call stops when the thread that made it is interrupted: its tasks, on that thread and on the
 * workers, each look at the caller's flag (not their own: a worker's is not the caller's) and throw a
 * {@link CancellationException}, which {@code CpuWorkers} rethrows to the caller once running tasks end. The
 * flag stays set, as for any interruptible wait that reports by an exception other than
 * {@link InterruptedException}. Stateless.
 */
public final class CallerInterrupt {
    private CallerInterrupt() {
    }

    /**
     * Throws a {@link CancellationException} ({@code "<operation> interrupted: <subject>"}) when {@code caller} has
     * been interrupted; the message is built only then, since tasks call this in their loops.
     */
    public static void check(Thread caller, String operation, Object subject) {
        if (caller.isInterrupted()) {
            throw new CancellationException(operation + " interrupted: " + subject);
        }
    }
}
