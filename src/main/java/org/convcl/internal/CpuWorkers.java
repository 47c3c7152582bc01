package org.convcl.internal;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * The threads the Java path computes on: the calling thread plus {@code threads - 1} daemon workers, sharing one
 * call's tasks through an atomic counter, so that a core that runs slow (another process, a hypervisor taking
 * the virtual CPU) leaves its share to the others instead of holding up the call.
 *
 * <p>Why not the common fork-join pool, which a parallel stream uses: on a 2-core machine its single worker,
 * parked between calls, was often not running again before the caller had done every task itself, so a call
 * took as long as on one thread (resnet3x3: 16.8 ms, the sequential time, in half of 40 calls, against 8.9).
 * A parallel stream also splits the range into a few fixed pieces up front. Here workers spin for a short
 * while after a call ({@link #spinNanos}, as OpenMP's and ONNX Runtime's threads do) so that back-to-back calls
 * find them running, then park; tasks are claimed one at a time.
 *
 * <p>One call uses the workers at a time. A call that arrives while they are busy, or from inside a task, runs
 * its tasks on its own thread: concurrent callers then each keep a core, and nothing can deadlock. Workers do
 * not spin for a second after such a call, so that they do not take cores from those callers between calls.
 *
 * <p>Threads: the {@code convcl.cpu.threads} system property or {@code CONVCL_CPU_THREADS} (1 to 1024), else
 * every available processor. Spin: {@code convcl.cpu.spin.us} or {@code CONVCL_CPU_SPIN_US} (0 to 1,000,000
 * microseconds; 0 parks at once), else {@link #DEFAULT_SPIN_MICROS}. Both are read once, when the Java path
 * first runs in parallel.
 */
public final class CpuWorkers {
    /** The threads setting: the calling thread counts as one. */
    public static final Setting<Integer> THREADS = Settings.CPU_THREADS;
    /** How long an idle worker spins before parking, in microseconds. */
    public static final Setting<Integer> SPIN_MICROS = Settings.CPU_SPIN_MICROS;
    /**
     * 10 ms: longer than the gap between back-to-back calls of a layer loop or a benchmark (copying a result out,
     * refilling and checking a 25 MB output, the next layer's set-up), short enough that an idle application does
     * not keep a core busy.
     */
    public static final int DEFAULT_SPIN_MICROS = Settings.CPU_SPIN_MICROS.defaultValue();
    private static final int MAX_THREADS = 1024;

    private static volatile CpuWorkers shared;

    private final int threads;
    private final long spinNanos;
    /** The call the workers serve; a new object per call, so a worker joins each one once. */
    private final AtomicReference<Job> current = new AtomicReference<>();
    /** Held by the call that owns the workers. */
    private final AtomicInteger owner = new AtomicInteger();
    private final Thread[] workers;
    /** Jobs published so far; only the owning call writes it (under {@link #owner}). */
    private long jobs;
    /**
     * When a call last found the workers busy. Threads of the application are then computing beside them (Spark
     * tasks, a server's requests), and a spinning worker would take a core from one of them: for
     * {@link #CONTENTION_QUIET_NANOS} after that, idle workers park at once.
     */
    private volatile long contendedAt = System.nanoTime() - CONTENTION_QUIET_NANOS;
    private static final long CONTENTION_QUIET_NANOS = 1_000_000_000L;

    /** A pool of {@code threads} (the caller included) whose idle workers spin {@code spinNanos}; daemon threads. */
    CpuWorkers(int threads, long spinNanos) {
        this.threads = threads;
        this.spinNanos = spinNanos;
        this.workers = new Thread[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            // No inherited thread locals and no context class loader: the workers outlive whichever thread made
            // them, and must not keep its class loader (an application server's web app) alive.
            Thread worker = new Thread(null, this::work, "convcl-cpu-" + (i + 1), 0, false);
            worker.setContextClassLoader(null);
            worker.setDaemon(true);
            workers[i] = worker;
            worker.start();
        }
    }

    /**
     * Runs {@code body} once for every task in {@code [0, tasks)}, on this thread and the workers, in no fixed
     * order, and returns when all have run. If a task throws, tasks not yet started are skipped and the first
     * exception is rethrown here once running tasks have finished.
     */
    public static void forEach(int tasks, IntConsumer body) {
        if (tasks == 1) {
            body.accept(0);
        } else if (tasks > 1) {
            shared().forEachOnThis(tasks, body);
        }
    }

    /** {@link #forEach} on this pool (tests make pools of their own with {@link #CpuWorkers(int, long)}). */
    void forEachOnThis(int tasks, IntConsumer body) {
        boolean owned = threads > 1 && owner.compareAndSet(0, 1);
        if (!owned) {
            if (threads > 1) {
                contendedAt = System.nanoTime();
            }
            for (int task = 0; task < tasks; task++) {
                body.accept(task);
            }
            return;
        }
        try {
            run(tasks, body);
        } finally {
            owner.set(0);
        }
    }

    /** Threads a parallel call runs on, the calling thread included. */
    public static int threads() {
        return shared().threads;
    }

    private static CpuWorkers shared() {
        CpuWorkers pool = shared;
        if (pool == null) {
            synchronized (CpuWorkers.class) {
                pool = shared;
                if (pool == null) {
                    pool = new CpuWorkers(threadsSetting(), spinMicrosSetting() * 1000L);
                    shared = pool;
                }
            }
        }
        return pool;
    }

    static int threadsSetting() {
        return THREADS.value().orElse(Math.min(MAX_THREADS, Runtime.getRuntime().availableProcessors()));
    }

    static int spinMicrosSetting() {
        return SPIN_MICROS.get();
    }

    private void run(int tasks, IntConsumer body) {
        Job job = new Job(++jobs, tasks, body);
        current.set(job);
        for (Thread worker : workers) {
            LockSupport.unpark(worker);
        }
        job.claimAndRun();
        // Every task is claimed; wait for those still running on workers (at most one task each).
        int spins = 0;
        while (job.active.get() != 0) {
            if (++spins < 1 << 12) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
        current.compareAndSet(job, null);
        Throwable failure = job.failure.get();
        if (failure instanceof RuntimeException e) {
            throw e;
        }
        if (failure instanceof Error e) {
            throw e;
        }
        if (failure != null) {
            // A checked exception thrown past the compiler's checks: never dropped.
            throw new java.util.concurrent.CompletionException(failure);
        }
    }

    private void work() {
        // The last job's number, not the job: a job holds its call's arrays, which must not outlive the call.
        long seen = 0;
        while (true) {
            Job job = awaitJob(seen);
            seen = job.number;
            job.active.incrementAndGet();
            try {
                job.claimAndRun();
            } finally {
                job.active.decrementAndGet();
            }
        }
    }

    /** The next call's job: spins for {@link #spinNanos} after the last one, then parks until unparked. */
    private Job awaitJob(long seen) {
        long now = System.nanoTime();
        long spinUntil = now - contendedAt < CONTENTION_QUIET_NANOS ? now : now + spinNanos;
        while (true) {
            Job job = current.get();
            if (job != null && job.number != seen) {
                return job;
            }
            if (System.nanoTime() < spinUntil) {
                Thread.onSpinWait();
            } else {
                // run() sets the job before unparking, so a job published after this check unparks us. A stray
                // interrupt is cleared: it would make every park return at once, a busy loop.
                Thread.interrupted();
                LockSupport.park(this);
            }
        }
    }

    /** One call's tasks, claimed one at a time by whichever thread is free. */
    private static final class Job {
        final long number;
        final int tasks;
        final IntConsumer body;
        final AtomicInteger next = new AtomicInteger();
        /** Workers inside {@link #claimAndRun}: counted before they claim, so the caller waits for their tasks. */
        final AtomicInteger active = new AtomicInteger();
        final AtomicReference<Throwable> failure = new AtomicReference<>();

        Job(long number, int tasks, IntConsumer body) {
            this.number = number;
            this.tasks = tasks;
            this.body = body;
        }

        void claimAndRun() {
            int task;
            while ((task = next.getAndIncrement()) < tasks) {
                try {
                    body.accept(task);
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                    next.set(tasks); // skip the tasks not yet started
                }
            }
        }
    }
}
