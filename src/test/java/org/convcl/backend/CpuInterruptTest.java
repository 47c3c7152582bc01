package org.convcl.backend;

import org.convcl.backend.cpu.CpuBackend;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CancellationException;
import org.convcl.ConvGeometry;
import org.convcl.ConvSpec;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** An interrupted caller stops a Java-path call promptly, keeps its interrupt flag, and gets no result. */
class CpuInterruptTest {

    @ParameterizedTest(name = "{0}x{0} kernel")
    @ValueSource(ints = {7, 3}) // 7x7: the direct kernels; 3x3: Winograd tiles
    void interruptedCallStopsPromptly(int k) throws Exception {
        // About 60 (7x7) or 87 (3x3, 128 output channels) dense-equivalent GFLOP: at least a quarter of a second on
        // the fastest path here (Winograd), far longer cold or on one thread, unless the interrupt stops it.
        int cout = k == 7 ? 64 : 128;
        ConvGeometry g = ConvSpec.defaults().resolve(new int[] {64, 96, 96, 64}, new int[] {k, k, 64, cout});
        float[] input = new float[g.inputShape()[0] * 96 * 96 * 64];
        float[] kernel = new float[k * k * 64 * cout];
        float[] output = new float[g.batch() * g.outputSpatialSize() * cout];
        for (CpuBackend backend : new CpuBackend[] {CpuBackend.instance(), CpuBackend.sequential()}) {
            Throwable[] thrown = new Throwable[1];
            boolean[] flagKept = new boolean[1];
            Thread worker = new Thread(() -> {
                try {
                    backend.forward(g, input, kernel, null, output);
                } catch (Throwable t) {
                    thrown[0] = t;
                    flagKept[0] = Thread.currentThread().isInterrupted();
                }
            });
            worker.start();
            Thread.sleep(50);
            long interruptedAt = System.nanoTime();
            worker.interrupt();
            worker.join(10_000);
            double stopMs = (System.nanoTime() - interruptedAt) / 1e6;
            assertTrue(!worker.isAlive(), backend.name() + ": still running 10 s after the interrupt");
            assertTrue(thrown[0] instanceof CancellationException, backend.name() + ": got " + thrown[0]);
            assertTrue(flagKept[0], backend.name() + ": the interrupt flag is kept");
            assertTrue(stopMs < 5_000, backend.name() + ": stopped " + stopMs + " ms after the interrupt");
        }
        assertThrows(CancellationException.class, () -> {
            Thread.currentThread().interrupt();
            try {
                CpuBackend.instance().forward(g, input, kernel, null, output);
            } finally {
                Thread.interrupted();
            }
        });
    }
}
