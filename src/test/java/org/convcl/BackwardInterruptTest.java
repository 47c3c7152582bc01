package org.convcl;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CancellationException;
import java.util.stream.Stream;
import org.convcl.backend.ConvBackend;
import org.convcl.backend.CpuBackend;
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
 * longest phase, which used to run to its end and return normally with the flag set).
 */
@Timeout(120)
class BackwardInterruptTest {
    /** Far below what the reductions below take uninterrupted (seconds), far above a check's delay. */
    private static final double PROMPT_MS = 1_000;

    static Stream<ConvBackend> backends() {
        List<ConvBackend> backends = new ArrayList<>(List.of(CpuBackend.instance()));
        OpenClTesting.sharedBackendIfAvailable().ifPresent(backends::add);
        return backends.stream();
    }

    /**
     * A layer whose kernel gradient is a long reduction: 7x7 taps, 64 to 64 channels, on one 96x96 image
     * about 3.7 GFLOP; the interrupt comes 150 ms into the call.
     */
    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("backends")
    void interruptedKernelGradientStops(ConvBackend backend) throws Exception {
        ConvGeometry g = ConvSpec.defaults().resolve(new int[] {1, 96, 96, 64}, new int[] {7, 7, 64, 64});
        SplittableRandom random = new SplittableRandom(23);
        float[] x = RandomTensors.uniform(random, g.inputShape()).data();
        float[] dy = RandomTensors.uniform(random, g.outputShape()).data();
        float[] dk = new float[(int) Tensor.elementCount(g.kernelShape())];
        assertStopsWhenInterrupted(backend.name() + " kernelGradient", 150,
                () -> backend.kernelGradient(g, x, dy, dk));
    }

    /**
     * A whole backward pass, interrupted well after its input gradient (a forward convolution, the fast part) and
     * inside its kernel gradient.
     */
    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("backends")
    void interruptedBackwardStops(ConvBackend backend) throws Exception {
        SplittableRandom random = new SplittableRandom(7);
        Conv layer = Conv.builder(RandomTensors.uniform(random, 7, 7, 64, 64)).backend(backend).build();
        Tensor x = RandomTensors.uniform(random, 1, 96, 96, 64);
        Tensor dy = RandomTensors.uniform(random, layer.outputShape(x.shape()));
        // How long the input gradient takes here, so that the interrupt comes after it: the same convolution forward.
        layer.apply(x);
        long start = System.nanoTime();
        layer.apply(x);
        long forwardMs = (System.nanoTime() - start) / 1_000_000;
        assertStopsWhenInterrupted(backend.name() + " backward", 2 * forwardMs + 100, () -> layer.backward(x, dy));
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

    /** Runs {@code call} on a thread, interrupts it after {@code afterMs} and checks how it ended. */
    private static void assertStopsWhenInterrupted(String what, long afterMs, Runnable call) throws Exception {
        idle();
        Throwable[] thrown = new Throwable[1];
        boolean[] flagKept = new boolean[1];
        Thread worker = new Thread(() -> {
            try {
                call.run();
            } catch (Throwable t) {
                thrown[0] = t;
            }
            flagKept[0] = Thread.currentThread().isInterrupted();
        }, "interrupted-call");
        worker.start();
        Thread.sleep(afterMs);
        assertTrue(worker.isAlive(), what + ": ended within " + afterMs + " ms; the case is too small to interrupt");
        long interruptedAt = System.nanoTime();
        worker.interrupt();
        worker.join(60_000);
        double stopMs = (System.nanoTime() - interruptedAt) / 1e6;
        assertFalse(worker.isAlive(), what + ": still running 60 s after the interrupt");
        assertTrue(thrown[0] instanceof CancellationException, what + ": expected a CancellationException, got "
                + (thrown[0] == null ? "a normal return " + stopMs + " ms after the interrupt" : thrown[0]));
        assertTrue(flagKept[0], what + ": the interrupt flag is kept");
        assertTrue(stopMs < PROMPT_MS, what + ": stopped " + stopMs + " ms after the interrupt");
        System.out.printf("%s: stopped %.1f ms after the interrupt%n", what, stopMs);
    }

}
