package org.convcl.internal;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Shutdown hooks that never hold the JVM's exit hostage. Releasing OpenCL resources waits for the calls in flight
 * (a backend's lifecycle lock), and a call can be stuck for as long as its kernels run, or for ever on a hung
 * driver: a hook that waited for it would make SIGTERM, Ctrl-C and {@code System.exit} wait too. The release runs
 * on a daemon thread of its own; the hook waits for it at most {@link #WAIT_MILLIS} ms, then lets the JVM exit
 * with one line on standard error (the process's end gives the memory back; the driver cleans up after it).
 *
 * <p>The JVM must not exit while that thread is inside the driver (a {@code clRelease*} cut off by the exit can
 * crash it), so the code that frees native objects, once it holds the lock that waited for the calls in flight,
 * runs them through {@link #releaseNatives}. A compare-and-set handshake decides which of the two comes first:
 * either the release starts before the hook gives up, and the hook waits for it to end (it has no call to wait for
 * any more; a further {@link #WAIT_MILLIS} ms at most, for a driver that hangs there too), or the hook gives up
 * first, and a release that gets its lock afterwards frees nothing.
 */
public final class BoundedShutdown {
    /** How long a hook waits for its release: enough for any idle release, short enough for a service manager. */
    public static final long WAIT_MILLIS = 3_000;

    /** A release thread's state: waiting for a lock (or between two), freeing native objects, or given up on. */
    private static final int WAITING = 0;
    private static final int RELEASING = 1;
    private static final int ABANDONED = 2;

    /** The state of the release run by this thread, on a hook's release thread only. */
    private static final ThreadLocal<AtomicInteger> GATE = new ThreadLocal<>();

    private BoundedShutdown() {
    }

    /**
     * A hook thread (for {@code Runtime.addShutdownHook}) named {@code name} that runs {@code release} and waits
     * for it at most {@link #WAIT_MILLIS} ms; past that it prints {@code "convcl: " + stuckLine} to standard
     * error and returns. {@code release} frees native objects through {@link #releaseNatives}.
     */
    public static Thread hook(String name, Runnable release, String stuckLine) {
        return hook(name, release, stuckLine, WAIT_MILLIS, System.err::println);
    }

    /** {@link #hook(String, Runnable, String)} with its wait and its standard error chosen (for tests). */
    static Thread hook(String name, Runnable release, String stuckLine, long waitMillis, Consumer<String> stderr) {
        return new Thread(() -> {
            AtomicInteger gate = new AtomicInteger(WAITING);
            Thread worker = new Thread(() -> {
                GATE.set(gate);
                release.run();
            }, name + "-release");
            worker.setDaemon(true);
            worker.start();
            try {
                awaitRelease(worker, gate, waitMillis, stuckLine, stderr);
            } catch (InterruptedException e) {
                gate.compareAndSet(WAITING, ABANDONED); // not waiting any more: nothing may start now
                Thread.currentThread().interrupt();
            }
        }, name);
    }

    private static void awaitRelease(Thread worker, AtomicInteger gate, long waitMillis, String stuckLine,
            Consumer<String> stderr) throws InterruptedException {
        worker.join(waitMillis);
        long graceEnd = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMillis);
        while (worker.isAlive()) {
            if (gate.compareAndSet(WAITING, ABANDONED)) {
                // The release waits for a lock: from now on it frees nothing, and the JVM may exit.
                stderr.accept("convcl: " + stuckLine + " (waited " + TimeUnit.MILLISECONDS.toSeconds(waitMillis)
                        + " s)");
                return;
            }
            // RELEASING: it holds its lock, so no call is in flight, and it is inside the driver; exiting now
            // could crash the JVM. Wait for it to leave (it then waits for the next lock, or ends).
            long leftNanos = graceEnd - System.nanoTime();
            if (leftNanos <= 0) {
                stderr.accept("convcl: " + stuckLine + " (a release inside the OpenCL driver did not end in "
                        + TimeUnit.MILLISECONDS.toSeconds(waitMillis) + " s)");
                return;
            }
            worker.join(Math.max(1, Math.min(10, TimeUnit.NANOSECONDS.toMillis(leftNanos))));
        }
    }

    /**
     * Runs {@code nativeRelease}, code that frees native objects, called with the lock held that waited for the
     * work in flight; returns whether it ran. It does not run when this thread is a shutdown hook's release that
     * the hook gave up waiting for: the JVM may be exiting, and the process's end frees the objects. On any other
     * thread, and nested in another {@code releaseNatives}, it runs.
     */
    public static boolean releaseNatives(Runnable nativeRelease) {
        AtomicInteger gate = GATE.get();
        if (gate == null || gate.get() == RELEASING) {
            nativeRelease.run(); // not a hook's release, or nested in one that has already begun
            return true;
        }
        if (!gate.compareAndSet(WAITING, RELEASING)) {
            return false; // ABANDONED: the hook has returned, and the JVM may be exiting
        }
        try {
            nativeRelease.run();
            return true;
        } finally {
            gate.set(WAITING); // only this thread leaves RELEASING; the hook may give up again from here
        }
    }
}
