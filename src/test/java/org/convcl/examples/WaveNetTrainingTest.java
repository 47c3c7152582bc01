package org.convcl.examples;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.convcl.backend.cpu.CpuBackend;
import org.junit.jupiter.api.Test;

/** The worked example learns: a few dozen gradient-descent steps cut the next-sample loss several-fold. */
class WaveNetTrainingTest {

    @Test
    void lossFallsSeveralFoldInAFewDozenSteps() {
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        List<Double> losses = WaveNetTraining.train(40, WaveNetTraining.LEARNING_RATE, 42, CpuBackend.instance(),
                new PrintStream(printed, true, StandardCharsets.UTF_8));
        double first = losses.get(0);
        double last = losses.get(losses.size() - 1);
        assertTrue(last < first / 8, "loss went from " + first + " to " + last);
        assertTrue(losses.get(1) < first, "the first step lowers the loss: " + losses.subList(0, 2));
        String log = printed.toString(StandardCharsets.UTF_8);
        assertTrue(log.contains("step    0") && log.contains("step   40"), log);
    }

    @Test
    void otherSeedsLearnToo() {
        for (long seed = 1; seed <= 3; seed++) {
            List<Double> losses = WaveNetTraining.train(40, WaveNetTraining.LEARNING_RATE, seed,
                    CpuBackend.instance(), new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
            assertTrue(losses.get(losses.size() - 1) < losses.get(0) / 4, "seed " + seed + ": " + losses);
        }
    }
}
