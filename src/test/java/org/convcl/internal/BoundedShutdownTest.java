package org.convcl.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The shutdown hook's handshake with its release: a release that gets its lock (the call in flight ended) after
 * the hook gave up frees nothing, since the JVM may be exiting; one that is inside the driver when the wait ends is
 * waited for, within a second bound. A short wait stands in for {@link BoundedShutdown#WAIT_MILLIS}.
 */
@Timeout(20)
class BoundedShutdownTest {
    private static final long WAIT_MILLIS = 200;
    private static final String STUCK = "shutting down with a call in flight";

    private final List<String> stderr = new CopyOnWriteArrayList<>();

    /** Runs the hook on {@code release}; returns how long the hook took in milliseconds. */
    private long runHook(Runnable release) throws InterruptedException {
        Thread hook = BoundedShutdown.hook("test-shutdown", release, STUCK, WAIT_MILLIS, stderr::add);
        long start = System.nanoTime();
        hook.start();
        hook.join(10_000);
        assertFalse(hook.isAlive(), "the hook returned");
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    }

    @Test
    void anIdleReleaseRunsAndNothingIsSaid() throws InterruptedException {
        AtomicBoolean freed = new AtomicBoolean();
        long ms = runHook(() -> BoundedShutdown.releaseNatives(() -> freed.set(true)));
        assertTrue(freed.get());
        assertEquals(List.of(), stderr);
        assertTrue(ms < WAIT_MILLIS, "no wait: " + ms + " ms");
    }

    @Test
    void aReleaseThatGetsItsLockAfterTheHookGaveUpFreesNothing() throws Exception {
        ReentrantLock lifecycle = new ReentrantLock();
        AtomicBoolean freed = new AtomicBoolean();
        AtomicBoolean ran = new AtomicBoolean(true);
        CountDownLatch done = new CountDownLatch(1);
        lifecycle.lock(); // a call in flight
        try {
            long ms = runHook(() -> {
                lifecycle.lock();
                try {
                    ran.set(BoundedShutdown.releaseNatives(() -> freed.set(true)));
                } finally {
                    lifecycle.unlock();
                    done.countDown();
                }
            });
            assertTrue(ms >= WAIT_MILLIS && ms < 5 * WAIT_MILLIS, "bounded: " + ms + " ms");
            assertEquals(1, stderr.size(), stderr.toString());
            assertTrue(stderr.get(0).startsWith("convcl: " + STUCK + " (waited"), stderr.get(0));
        } finally {
            lifecycle.unlock(); // the call ends, just after the hook gave up
        }
        assertTrue(done.await(5, TimeUnit.SECONDS));
        assertFalse(ran.get(), "releaseNatives says it did not run");
        assertFalse(freed.get(), "nothing freed once the hook gave up");
    }

    @Test
    void aReleaseInsideTheDriverAtTheDeadlineIsWaitedFor() throws InterruptedException {
        AtomicBoolean freed = new AtomicBoolean();
        long ms = runHook(() -> BoundedShutdown.releaseNatives(() -> {
            sleep(3 * WAIT_MILLIS / 2); // a slow clRelease*, begun before the deadline, ends within the second
            freed.set(true);
        }));
        assertTrue(freed.get(), "the hook returned only after the release ended");
        assertEquals(List.of(), stderr);
        assertTrue(ms >= 3 * WAIT_MILLIS / 2, ms + " ms");
    }

    @Test
    void aReleaseThatHangsInsideTheDriverIsWaitedForWithinASecondBound() throws InterruptedException {
        CountDownLatch hung = new CountDownLatch(1);
        try {
            long ms = runHook(() -> BoundedShutdown.releaseNatives(() -> {
                try {
                    hung.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
            assertTrue(ms >= 2 * WAIT_MILLIS && ms < 8 * WAIT_MILLIS, "two waits: " + ms + " ms");
            assertEquals(1, stderr.size(), stderr.toString());
            assertTrue(stderr.get(0).contains("did not end"), stderr.get(0));
        } finally {
            hung.countDown();
        }
    }

    @Test
    void aReleaseAfterAnEarlierOneWaitsAgainAndIsGivenUpOn() throws Exception {
        // Two backends: the first is released at once, the second's lock is held by a call in flight.
        ReentrantLock second = new ReentrantLock();
        AtomicBoolean firstFreed = new AtomicBoolean();
        AtomicBoolean secondFreed = new AtomicBoolean();
        CountDownLatch done = new CountDownLatch(1);
        second.lock();
        try {
            runHook(() -> {
                BoundedShutdown.releaseNatives(() -> firstFreed.set(true));
                second.lock();
                try {
                    BoundedShutdown.releaseNatives(() -> secondFreed.set(true));
                } finally {
                    second.unlock();
                    done.countDown();
                }
            });
        } finally {
            second.unlock();
        }
        assertTrue(done.await(5, TimeUnit.SECONDS));
        assertTrue(firstFreed.get());
        assertFalse(secondFreed.get());
        assertEquals(1, stderr.size(), stderr.toString());
    }

    @Test
    void elsewhereAndNestedReleasesRun() throws InterruptedException {
        AtomicBoolean inner = new AtomicBoolean();
        assertTrue(BoundedShutdown.releaseNatives(() -> inner.set(true)), "not a hook's release thread");
        assertTrue(inner.get());
        inner.set(false);
        AtomicBoolean nested = new AtomicBoolean();
        runHook(() -> BoundedShutdown.releaseNatives(() -> nested.set(BoundedShutdown.releaseNatives(
                () -> inner.set(true)))));
        assertTrue(nested.get() && inner.get(), "a release inside a release runs");
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
