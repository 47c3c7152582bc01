package org.convcl.opencl;

import org.convcl.opencl.device.OpenClException;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.convcl.Tensor;
import org.convcl.opencl.internal.runtime.ClEvents;
import org.jocl.CL;
import org.jocl.cl_event;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Timeout;

/**
 * The wait of host-array calls ({@link DeviceTensor#awaitUnlessInterrupted()}, behind every download): it sleeps
 * until the driver reports the end of the work (an event callback), so a waiter takes no CPU from the kernels;
 * it still wakes at once for an interrupt, and a failure reported while it waits is thrown naming the call. The
 * device is held still with a user event that the compute queue waits for, so "still running" is a state the
 * test controls.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class InterruptibleWaitTest {
    /** How long the waiter is watched while the work cannot end. */
    private static final long HELD_MS = 600;
    /**
     * CPU the waiter may take meanwhile: waking up (the checks, the thread's start). Polling the status every
     * 100 us took tens of milliseconds in {@link #HELD_MS}.
     */
    private static final long WAITER_CPU_MS = 10;

    @RegisterExtension
    final GatedLayerFixture gated = new GatedLayerFixture(31);

    @Test
    void aWaiterSleepsUntilTheWorkEndsThenSeesItsResult() throws Exception {
        Tensor expected = gated.layer().apply(gated.x());
        try (DeviceTensor input = gated.backend().upload(gated.x())) {
            gated.layer().apply(input).await().close(); // the layer's weights go up now, not behind the gate
            cl_event gate = gated.userEvent();
            boolean opened = false;
            try {
                gated.backend().context().barrier(gate);
                try (DeviceTensor output = gated.layer().apply(input)) {
                    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
                    AtomicBoolean waiting = new AtomicBoolean();
                    CompletableFuture<Long> waiterCpu = new CompletableFuture<>();
                    Thread waiter = new Thread(() -> {
                        waiting.set(true);
                        long before = threads.getCurrentThreadCpuTime();
                        try {
                            output.awaitUnlessInterrupted();
                            waiterCpu.complete(threads.getCurrentThreadCpuTime() - before);
                        } catch (RuntimeException e) {
                            waiterCpu.completeExceptionally(e);
                        }
                    }, "waiter");
                    waiter.setDaemon(true); // a wait that never ends must not keep the test JVM alive
                    waiter.start();
                    Thread.sleep(HELD_MS);
                    assertTrue(waiting.get() && !waiterCpu.isDone(), "the waiter waits while the work cannot run");
                    CL.clSetUserEventStatus(gate, CL.CL_COMPLETE);
                    opened = true;
                    long cpuMs = waiterCpu.get(20, TimeUnit.SECONDS) / 1_000_000;
                    assertTrue(cpuMs < WAITER_CPU_MS, "the waiter took " + cpuMs + " ms of CPU in " + HELD_MS
                            + " ms of waiting; a sleeping wait takes almost none");
                    assertArrayEquals(expected.data(), output.download().data(), "the awaited result");
                }
            } finally {
                if (!opened) {
                    CL.clSetUserEventStatus(gate, CL.CL_COMPLETE);
                }
                ClEvents.release(gate);
            }
        }
    }

    @Test
    void anInterruptedWaiterStopsAtOnceWithItsFlagKept() throws Exception {
        try (DeviceTensor input = gated.backend().upload(gated.x())) {
            gated.layer().apply(input).await().close(); // the layer's weights go up now, not behind the gate
            cl_event gate = gated.userEvent();
            try {
                gated.backend().context().barrier(gate);
                try (DeviceTensor output = gated.layer().apply(input)) {
                    CompletableFuture<Throwable> outcome = new CompletableFuture<>();
                    AtomicBoolean flagKept = new AtomicBoolean();
                    Thread waiter = new Thread(() -> {
                        try {
                            output.awaitUnlessInterrupted();
                            outcome.complete(null);
                        } catch (RuntimeException e) {
                            flagKept.set(Thread.currentThread().isInterrupted());
                            outcome.complete(e);
                        }
                    }, "waiter");
                    waiter.setDaemon(true); // a wait that never ends must not keep the test JVM alive
                    waiter.start();
                    Thread.sleep(200);
                    long interruptedAt = System.nanoTime();
                    waiter.interrupt();
                    Throwable thrown = outcome.get(20, TimeUnit.SECONDS);
                    long stoppedMs = (System.nanoTime() - interruptedAt) / 1_000_000;
                    assertInstanceOf(CancellationException.class, thrown, "the work could not have ended");
                    assertTrue(thrown.getMessage().contains("interrupted while waiting for its device work"),
                            thrown.getMessage());
                    assertTrue(flagKept.get(), "the interrupt flag stays set");
                    assertTrue(stoppedMs < 1_000, "stopped " + stoppedMs + " ms after the interrupt");
                    assertFalse(output.isReady(), "the work itself still waits behind the gate");
                }
            } finally {
                CL.clSetUserEventStatus(gate, CL.CL_COMPLETE);
                ClEvents.release(gate);
            }
        }
        gated.backend().finish();
    }

    /**
     * A failure reported while the waiter sleeps is thrown naming the call. A failed command is simulated with a
     * user event set to an error as the tensor's producing work (as AsynchronousCallsTest does: PoCL aborts the
     * process when a real command depends on a failed user event).
     */
    @Test
    void aFailureReportedWhileWaitingIsThrownNamingTheCall() throws Exception {
        try (DeviceTensor input = gated.backend().upload(gated.x()); DeviceTensor output = gated.layer().apply(input)) {
            gated.backend().finish();
            cl_event failing = gated.userEvent();
            gated.backend().record(output, new Production(failing, () -> "convolution under test"));
            CompletableFuture<Throwable> outcome = new CompletableFuture<>();
            Thread waiter = new Thread(() -> {
                try {
                    output.awaitUnlessInterrupted();
                    outcome.complete(null);
                } catch (RuntimeException e) {
                    outcome.complete(e);
                }
            }, "waiter");
            waiter.setDaemon(true); // a wait that never ends must not keep the test JVM alive
            waiter.start();
            Thread.sleep(200);
            assertFalse(outcome.isDone(), "the work has not ended yet");
            CL.clSetUserEventStatus(failing, CL.CL_OUT_OF_RESOURCES);
            Throwable thrown = outcome.get(20, TimeUnit.SECONDS);
            assertInstanceOf(OpenClException.class, thrown);
            assertTrue(thrown.getMessage().startsWith("the asynchronous work of convolution under test (writing "
                    + output + ") failed: CL_OUT_OF_RESOURCES"), thrown.getMessage());
            OpenClException finished = assertThrows(OpenClException.class, gated.backend()::finish);
            assertTrue(finished.getMessage().contains("convolution under test"), finished.getMessage());
        }
    }
}
