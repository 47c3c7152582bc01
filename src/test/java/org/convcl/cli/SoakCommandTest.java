package org.convcl.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** {@code convcl soak}: a short run reports its samples and passes when nothing accumulates. */
class SoakCommandTest {

    @Test
    void shortRunOnTheJavaPathPasses() {
        CliRun run = CliRun.of("soak", "--calls", "40", "--sample-every", "10", "--backend", "cpu");
        assertEquals(0, run.exitCode(), run.stdout() + run.stderr());
        assertTrue(run.stdout().contains("live objects flat: true"), run.stdout());
        assertEquals(4, run.stdout().lines().filter(line -> line.matches("\\s+\\d+\\s+buffers=.*")).count(),
                "one sample line per 10 calls: " + run.stdout());
    }

    @Test
    void badCountIsRefused() {
        CliRun.of("soak", "--calls", "0", "--backend", "cpu").assertFailure(Main.EXIT_INVALID, null);
    }
}
