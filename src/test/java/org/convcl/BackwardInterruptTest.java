package org.convcl;

import org.convcl.nn.Conv;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;
import java.util.stream.Stream;
import org.convcl.backend.ConvBackend;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.opencl.OpenClBackend;
import org.convcl.testing.OpenClTesting;
import org.convcl.testing.RandomTensors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * An interrupted backward pass stops as a forward pass does: with a {@link CancellationException}, promptly, the
 * caller's interrupt flag kept, on both backends. The interrupt lands in the kernel-gradient reduction (the
 * longest phase, which used to run to its end and return normally with the flag set). Device speeds differ by
 * a thousand times (PoCL on two cores, an H100), so each case is timed first and scaled to take about
 * {@value #TARGET_MS} ms, and the call is repeated until the interrupt ends it: one is always in flight.
 */
@Timeout(120)
class BackwardInterruptTest {
    /** Far below what the reductions below take uninterrupted (seconds), far above a check's delay. */
    private static final double PROMPT_MS = 1_000;
    /** How long a scaled call takes at least: an interrupt in its middle lands far from its start and its end. */
    private static final double TARGET_MS = 400;
    /** The most 96x96x64 images a case is scaled to: x and dy then take about 300 MB (a fast GPU needs them). */
    private static final int MAX_BATCH = 64;

    static Stream<ConvBackend> backends() {
        List<ConvBackend> backends = new ArrayList<>(List.of(CpuBackend.instance()));
        OpenClTesting.sharedBackendIfAvailable().ifPresent(backends::add);
        return backends.stream();
    }

    /**
     * A layer whose kernel gradient is a long reduction: 7x7 taps, 64 to 64 channels, on 96x96 images, about
     * 3.7 GFLOP each; the interrupt comes half-way through the call.
     */
    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("backends")
    void interruptedKernelGradientStops(ConvBackend backend) throws Exception {
        idle();
        Timed kernelGradient = scaled(batch -> {
            ConvGeometry g = ConvSpec.defaults().resolve(new int[] {batch, 96, 96, 64}, new int[] {7, 7, 64, 64});
            SplittableRandom random = new SplittableRandom(23);
            float[] x = RandomTensors.uniform(random, g.inputShape()).data();
            float[] dy = RandomTensors.uniform(random, g.outputShape()).data();
            float[] dk = new float[(int) Tensor.elementCount(g.kernelShape())];
            return () -> backend.kernelGradient(g, x, dy, dk);
        });
        assertStopsWhenInterrupted(backend.name() + " kernelGradient of " + kernelGradient,
                kernelGradient.ms() / 2, kernelGradient.call());
    }

    /**
     * A whole backward pass, interrupted well after its input gradient (a forward convolution, the fast part) and
     * inside its kernel gradient: half-way between the end of a forward pass's time and the backward pass's.
     */
    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("backends")
    void interruptedBackwardStops(ConvBackend backend) throws Exception {
        SplittableRandom random = new SplittableRandom(7);
        Conv layer = Conv.builder(RandomTensors.uniform(random, 7, 7, 64, 64)).backend(backend).build();
        Tensor[] input = new Tensor[1];
        idle();
        Timed backward = scaled(batch -> {
            Tensor x = RandomTensors.uniform(random, batch, 96, 96, 64);
            Tensor dy = RandomTensors.uniform(random, layer.outputShape(x.shape()));
            input[0] = x;
            return () -> layer.backward(x, dy);
        });
        // How long the input gradient takes here, so that the interrupt comes after it: the same convolution forward.
        layer.apply(input[0]);
        double forwardMs = timeMs(() -> layer.apply(input[0]));
        assertStopsWhenInterrupted(backend.name() + " backward of " + backward + ", forward "
                + Math.round(forwardMs) + " ms", (forwardMs + backward.ms()) / 2, backward.call());
    }

    /** A call made for some number of images, and how long it took once it had run before. */
    private record Timed(int batch, Runnable call, double ms) {
        @Override
        public String toString() {
            return batch + " images (" + Math.round(ms) + " ms)";
        }
    }

    /**
     * The call that {@code callFor} makes for as many images as take {@link #TARGET_MS} ms (at most
     * {@link #MAX_BATCH}), found from one image, each timed after a first run (which may compile).
     */
    private static Timed scaled(IntFunction<Runnable> callFor) {
        Runnable one = callFor.apply(1);
        one.run();
        double ms = timeMs(one);
        int batch = (int) Math.max(1, Math.min(MAX_BATCH, Math.ceil(TARGET_MS / Math.max(ms, 1e-3))));
        if (batch == 1) {
            return new Timed(1, one, ms);
        }
        Runnable call = callFor.apply(batch);
        call.run();
        return new Timed(batch, call, timeMs(call));
    }

    private static double timeMs(Runnable call) {
        long start = System.nanoTime();
        call.run();
        return (System.nanoTime() - start) / 1e6;
    }

    /** The kernels the last interrupted OpenCL call left running end here, not in the next test class. */
    @AfterAll
    static void drain() {
        idle();
    }

    /**
     * Waits for work an earlier interrupted call left on the device (an interrupt stops the caller, not kernels
     * already launched): the call under test must not start behind it.
     */
    private static void idle() {
        backends().filter(b -> b instanceof OpenClBackend).forEach(b -> ((OpenClBackend) b).finish());
    }

    /**
     * Runs {@code call} over and over on a thread, interrupts that thread {@code afterMs} into the first run and
     * checks how it ended: the run in flight (the first, or a later one if the timing was off) must stop with a
     * {@link CancellationException}; a run that returns normally with the flag set is the old behaviour.
     */
    private static void assertStopsWhenInterrupted(String what, double afterMs, Runnable call) throws Exception {
        idle();
        Throwable[] thrown = new Throwable[1];
        boolean[] flagKept = new boolean[1];
        int[] runs = new int[1];
        AtomicLong firstStart = new AtomicLong();
        Thread worker = new Thread(() -> {
            firstStart.set(System.nanoTime());
            try {
                while (!Thread.currentThread().isInterrupted()) {
                    call.run();
                    runs[0]++;
                }
            } catch (Throwable t) {
                thrown[0] = t;
            }
            flagKept[0] = Thread.currentThread().isInterrupted();
        }, "interrupted-call");
        worker.start();
        while (firstStart.get() == 0) {
            Thread.onSpinWait();
        }
        long interruptAt = firstStart.get() + (long) (afterMs * 1e6);
        while (System.nanoTime() < interruptAt) {
            Thread.sleep(Math.max(0, (interruptAt - System.nanoTime()) / 1_000_000));
        }
        long interruptedAt = System.nanoTime();
        worker.interrupt();
        worker.join(60_000);
        double stopMs = (System.nanoTime() - interruptedAt) / 1e6;
        assertFalse(worker.isAlive(), what + ": still running 60 s after the interrupt");
        assertTrue(thrown[0] instanceof CancellationException, what + ": expected a CancellationException, got "
                + (thrown[0] == null ? "a normal return " + stopMs + " ms after the interrupt" : thrown[0]));
        assertTrue(flagKept[0], what + ": the interrupt flag is kept");
        assertTrue(stopMs < PROMPT_MS, what + ": stopped " + stopMs + " ms after the interrupt");
        System.out.printf("%s: interrupted %.0f ms into the first of %d runs, stopped %.1f ms after%n", what,
                afterMs, runs[0] + 1, stopMs);
    }
}
