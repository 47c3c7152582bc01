package org.convcl.internal;

import java.util.concurrent.TimeUnit;

/**
 * Shutdown hooks that never hold the JVM's exit hostage. Releasing OpenCL resources waits for the calls in flight
 * (a backend's lifecycle lock), and a call can be stuck for as long as its kernels run, or for ever on a hung
 * driver: a hook that waited for it would make SIGTERM, Ctrl-C and {@code System.exit} wait too. The release runs
 * on a daemon thread of its own; the hook waits for it at most {@link #WAIT_MILLIS} ms, then lets the JVM exit
 * with one line on standard error (the process's end gives the memory back; the driver cleans up after it).
 */
public final class BoundedShutdown {
    /** How long a hook waits for its release: enough for any idle release, short enough for a service manager. */
    public static final long WAIT_MILLIS = 3_000;

    private BoundedShutdown() {
    }

    /**
     * A hook thread (for {@code Runtime.addShutdownHook}) named {@code name} that runs {@code release} and waits
     * for it at most {@link #WAIT_MILLIS} ms; past that it prints {@code "convcl: " + stuckLine} to standard
     * error and returns.
     */
    public static Thread hook(String name, Runnable release, String stuckLine) {
        return new Thread(() -> {
            Thread worker = new Thread(release, name + "-release");
            worker.setDaemon(true);
            worker.start();
            try {
                worker.join(WAIT_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (worker.isAlive()) {
                System.err.println("convcl: " + stuckLine + " (waited " + TimeUnit.MILLISECONDS.toSeconds(WAIT_MILLIS)
                        + " s)");
            }
        }, name);
    }
}
