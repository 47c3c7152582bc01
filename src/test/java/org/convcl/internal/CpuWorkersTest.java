package org.convcl.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/** The Java path's threads run every task exactly once, under any mix of callers, and report failures. */
class CpuWorkersTest {

    @Test
    void everyTaskRunsExactlyOnceForAnyTaskCount() {
        SplittableRandom random = new SplittableRandom(13);
        for (int round = 0; round < 300; round++) {
            int tasks = round < 40 ? round : random.nextInt(1, 5000);
            AtomicIntegerArray runs = new AtomicIntegerArray(Math.max(1, tasks));
            CpuWorkers.forEach(tasks, runs::incrementAndGet);
            for (int t = 0; t < tasks; t++) {
                assertEquals(1, runs.get(t), "task " + t + " of " + tasks);
            }
        }
    }

    @Test
    void resultsWrittenByWorkersAreVisibleToTheCaller() {
        // Plain (non-volatile) writes from every thread must be visible once forEach returns.
        for (int round = 0; round < 200; round++) {
            long[] squares = new long[4096];
            CpuWorkers.forEach(squares.length, t -> squares[t] = (long) t * t);
            for (int t = 0; t < squares.length; t++) {
                assertEquals((long) t * t, squares[t], "round " + round + ", task " + t);
            }
        }
    }

    @Test
    void forEachReturnsOnlyAfterEveryTaskHasFinished() {
        // Tasks that take a while: when the caller runs out of tasks to claim, a worker is usually still inside
        // one, and forEach must wait for it.
        for (int round = 0; round < 40; round++) {
            int tasks = 3 + round % 5;
            AtomicIntegerArray finished = new AtomicIntegerArray(tasks);
            CpuWorkers.forEach(tasks, t -> {
                java.util.concurrent.locks.LockSupport.parkNanos(1_000_000L + 300_000L * t);
                finished.set(t, 1);
            });
            for (int t = 0; t < tasks; t++) {
                assertEquals(1, finished.get(t), "round " + round + ": task " + t + " of " + tasks
                        + " had not finished when forEach returned");
            }
        }
    }

    @Test
    void concurrentCallersEachGetAllTheirTasks() throws Exception {
        int callers = 6;
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
        for (int c = 0; c < callers; c++) {
            int tasks = 500 + 37 * c;
            Thread caller = new Thread(() -> {
                try {
                    start.await();
                    for (int round = 0; round < 100; round++) {
                        AtomicIntegerArray runs = new AtomicIntegerArray(tasks);
                        CpuWorkers.forEach(tasks, runs::incrementAndGet);
                        for (int t = 0; t < tasks; t++) {
                            if (runs.get(t) != 1) {
                                throw new AssertionError("task " + t + " ran " + runs.get(t) + " times");
                            }
                        }
                    }
                } catch (Throwable t) {
                    failures.add(t);
                }
            });
            threads.add(caller);
            caller.start();
        }
        start.countDown();
        for (Thread t : threads) {
            t.join(60_000);
            assertFalse(t.isAlive(), "a caller is still running after 60 s");
        }
        assertTrue(failures.isEmpty(), failures.toString());
    }

    @Test
    void theFirstFailureIsRethrownAndNoTaskRunsAfterTheCallReturns() {
        for (int round = 0; round < 50; round++) {
            AtomicBoolean returned = new AtomicBoolean();
            AtomicBoolean ranLate = new AtomicBoolean();
            IllegalStateException failure = new IllegalStateException("task 100 failed");
            IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> CpuWorkers.forEach(1000,
                    t -> {
                        if (returned.get()) {
                            ranLate.set(true);
                        }
                        if (t == 100) {
                            throw failure;
                        }
                        busyWork(t);
                    }));
            returned.set(true);
            assertSame(failure, thrown);
            // A late task would show within a few milliseconds; a next call flushes any still queued.
            CpuWorkers.forEach(64, t -> busyWork(t));
            assertFalse(ranLate.get(), "a task ran after forEach had thrown");
        }
        AssertionError error = new AssertionError("an Error passes through unchanged");
        assertSame(error, assertThrows(AssertionError.class, () -> CpuWorkers.forEach(10, t -> {
            throw error;
        })));
    }

    @Test
    void aCheckedExceptionThrownPastTheCompilerIsNotDropped() {
        java.io.IOException checked = new java.io.IOException("thrown past the compiler's checks");
        java.util.concurrent.CompletionException thrown = assertThrows(java.util.concurrent.CompletionException.class,
                () -> CpuWorkers.forEach(100, t -> {
                    if (t == 37) {
                        CpuWorkersTest.<RuntimeException>sneakyThrow(checked);
                    }
                }));
        assertSame(checked, thrown.getCause());
    }

    @SuppressWarnings("unchecked")
    private static <E extends Throwable> void sneakyThrow(Throwable t) throws E {
        throw (E) t;
    }

    @Test
    void aCallFromInsideATaskRunsOnItsThreadWithoutDeadlock() {
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            AtomicIntegerArray inner = new AtomicIntegerArray(16 * 50);
            CpuWorkers.forEach(16, outer -> CpuWorkers.forEach(50, t -> inner.incrementAndGet(outer * 50 + t)));
            for (int i = 0; i < inner.length(); i++) {
                assertEquals(1, inner.get(i), "inner task " + i);
            }
        });
    }

    @Test
    void everyThreadTakesPartWhenTasksWait() throws Exception {
        int threads = CpuWorkers.threads();
        assertEquals(CpuWorkers.threadsSetting(), threads);
        // Each task waits until as many threads as the pool has are inside a task at once (or 10 s pass): only
        // reachable when the workers really run tasks beside the caller.
        Set<String> names = ConcurrentHashMap.newKeySet();
        CountDownLatch together = new CountDownLatch(threads);
        CpuWorkers.forEach(threads, t -> {
            names.add(Thread.currentThread().getName());
            together.countDown();
            try {
                together.await(10, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertEquals(threads, names.size(), "threads that ran a task: " + names);
    }

    @Test
    void parkedWorkersWakeForTheNextCall() throws Exception {
        // A pool that never spins: its worker parks after every call, and each call must unpark it. Each call's
        // two tasks wait for each other, so a worker that stayed parked would fail the call (after 10 s).
        CpuWorkers pool = new CpuWorkers(2, 0);
        for (int call = 0; call < 20; call++) {
            Thread.sleep(call % 4 == 0 ? 15 : 1); // the worker parks in between
            Set<String> names = ConcurrentHashMap.newKeySet();
            CountDownLatch together = new CountDownLatch(2);
            boolean[] met = new boolean[2];
            pool.forEachOnThis(2, t -> {
                names.add(Thread.currentThread().getName());
                together.countDown();
                try {
                    met[t] = together.await(10, java.util.concurrent.TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertTrue(met[0] && met[1], "call " + call + ": the parked worker did not wake; ran on " + names);
            assertEquals(2, names.size(), "call " + call + ": " + names);
        }
    }

    @Test
    void badSettingsAreRefusedNamingTheSettingTheValueAndTheRule() {
        for (String bad : new String[] {"0", "-3", "two", "1025", "1.5"}) {
            String message = withProperty(CpuWorkers.THREADS.property(), bad, CpuWorkers::threadsSetting);
            assertTrue(message.contains("convcl.cpu.threads") && message.contains("'" + bad + "'")
                    && message.contains("1 to 1024"), message);
        }
        for (String bad : new String[] {"-1", "1000001", "fast"}) {
            String message = withProperty(CpuWorkers.SPIN_MICROS.property(), bad, CpuWorkers::spinMicrosSetting);
            assertTrue(message.contains("convcl.cpu.spin.us") && message.contains("'" + bad + "'")
                    && message.contains("0 to 1000000"), message);
        }
        assertEquals(3, withValue(CpuWorkers.THREADS.property(), "3", CpuWorkers::threadsSetting));
        assertEquals(0, withValue(CpuWorkers.SPIN_MICROS.property(), "0", CpuWorkers::spinMicrosSetting));
    }

    private static String withProperty(String property, String value, java.util.function.IntSupplier read) {
        String old = System.getProperty(property);
        System.setProperty(property, value);
        try {
            return assertThrows(IllegalArgumentException.class, read::getAsInt).getMessage();
        } finally {
            restore(property, old);
        }
    }

    private static int withValue(String property, String value, java.util.function.IntSupplier read) {
        String old = System.getProperty(property);
        System.setProperty(property, value);
        try {
            return read.getAsInt();
        } finally {
            restore(property, old);
        }
    }

    private static void restore(String property, String old) {
        if (old == null) {
            System.clearProperty(property);
        } else {
            System.setProperty(property, old);
        }
    }

    private static volatile double sink;

    private static void busyWork(int seed) {
        double x = seed;
        for (int i = 0; i < 2000; i++) {
            x = Math.sqrt(x + i);
        }
        sink = x;
    }
}
