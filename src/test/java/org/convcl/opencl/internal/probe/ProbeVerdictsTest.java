package org.convcl.opencl.internal.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The probe verdicts on disk: remembered per key, never trusted for another key, never an error to keep, and only
 * the lasting ones (a failed run, which a busy device can cause, is probed again by the next process).
 */
class ProbeVerdictsTest {
    private static final String KEY = "device=GPU X; driver=1.2; variant=MMA_TENSOR_CORES; sources=abc";
    private static final ProbeVerdicts.Verdict FAILED = new ProbeVerdicts.Verdict(
            ProbeResult.Outcome.BUILD_FAILED, "it failed to build: error: unknown\ninstruction 'asm'");

    @TempDir
    Path dir;

    @Test
    void aVerdictIsReadBackForItsKeyAndDeviceOnly() {
        ProbeVerdicts verdicts = new ProbeVerdicts(dir.resolve("probes"));
        Path file = verdicts.write(KEY, "GPU X", FAILED).orElseThrow();
        assertTrue(file.getFileName().toString().startsWith("gpu-x-"), file.toString());
        assertEquals(Optional.of(FAILED), verdicts.read(KEY, "GPU X"), "a reason with a line break survives");
        assertEquals(Optional.empty(), verdicts.read(KEY.replace("1.2", "1.3"), "GPU X"), "another driver");
        ProbeVerdicts.Verdict passed = new ProbeVerdicts.Verdict(ProbeResult.Outcome.PASSED, "");
        verdicts.write(KEY, "GPU X", passed);
        assertEquals(Optional.of(passed), verdicts.read(KEY, "GPU X"), "a new verdict replaces the old");
    }

    @Test
    void aFileOfAnotherKeyOrThatDoesNotParseIsIgnored() throws Exception {
        ProbeVerdicts verdicts = new ProbeVerdicts(dir);
        Path file = verdicts.fileFor(KEY, "GPU X").orElseThrow();
        // Copied from elsewhere, or a hash collision: the file names another key.
        Files.writeString(file, "key=something else\nverdict=passed\n");
        assertEquals(Optional.empty(), verdicts.read(KEY, "GPU X"));
        Files.writeString(file, "key=" + KEY.replace("=", "\\=") + "\nverdict=maybe\n");
        assertEquals(Optional.empty(), verdicts.read(KEY, "GPU X"), "no verdict it knows");
        Files.writeString(file, "key=\\u12");
        assertEquals(Optional.empty(), verdicts.read(KEY, "GPU X"), "a malformed escape");
    }

    @Test
    void aWrongResultIsRememberedAsSuch() {
        ProbeVerdicts verdicts = new ProbeVerdicts(dir);
        ProbeVerdicts.Verdict wrong = new ProbeVerdicts.Verdict(ProbeResult.Outcome.WRONG_RESULT,
                "it gave a wrong result: max_rel_err 1.0e+00");
        verdicts.write(KEY, "GPU X", wrong);
        assertEquals(Optional.of(wrong), verdicts.read(KEY, "GPU X"));
    }

    @Test
    void onlyLastingVerdictsAreWrittenOrRead() throws Exception {
        ProbeVerdicts verdicts = new ProbeVerdicts(dir.resolve("probes"));
        for (ProbeResult.Outcome notLasting : new ProbeResult.Outcome[] {ProbeResult.Outcome.RUN_FAILED,
            ProbeResult.Outcome.DOES_NOT_FIT}) {
            IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                    () -> verdicts.write(KEY, "GPU X", new ProbeVerdicts.Verdict(notLasting, "CL_OUT_OF_RESOURCES")));
            assertTrue(refused.getMessage().contains(notLasting.name()), refused.getMessage());
        }
        assertFalse(Files.exists(dir.resolve("probes")), "nothing written");
        // Files of an older convcl, which remembered every failure as "failed" (a failed run included), or one
        // edited to name an outcome that is not remembered: probed again.
        Files.createDirectories(dir.resolve("probes"));
        Path file = verdicts.fileFor(KEY, "GPU X").orElseThrow();
        String key = "key=" + KEY.replace("=", "\\=").replace(" ", "\\ ") + "\n";
        Files.writeString(file, key + "verdict=failed\nreason=it failed to run: CL_OUT_OF_RESOURCES\n");
        assertEquals(Optional.empty(), verdicts.read(KEY, "GPU X"), "no outcome");
        Files.writeString(file, key + "verdict=failed\noutcome=RUN_FAILED\nreason=it failed to run\n");
        assertEquals(Optional.empty(), verdicts.read(KEY, "GPU X"), "a failed run");
        Files.writeString(file, key + "verdict=passed\noutcome=WRONG_RESULT\n");
        assertEquals(Optional.empty(), verdicts.read(KEY, "GPU X"), "verdict and outcome disagree");
        Files.writeString(file, key + "verdict=failed\noutcome=BUILD_FAILED\nreason=r\n");
        assertEquals(Optional.of(new ProbeVerdicts.Verdict(ProbeResult.Outcome.BUILD_FAILED, "r")),
                verdicts.read(KEY, "GPU X"), "the same file with a lasting outcome is read: the key line is right");
    }

    @Test
    void withoutAUsableDirectoryNothingIsRememberedAndNothingFails() throws Exception {
        ProbeVerdicts none = new ProbeVerdicts(null);
        assertEquals(Optional.empty(), none.write(KEY, "GPU X", FAILED));
        assertEquals(Optional.empty(), none.read(KEY, "GPU X"));
        Path notADirectory = Files.writeString(dir.resolve("a-file"), "not a directory");
        ProbeVerdicts blocked = new ProbeVerdicts(notADirectory.resolve("probes"));
        assertEquals(Optional.empty(), blocked.write(KEY, "GPU X", FAILED));
        assertEquals(Optional.empty(), blocked.read(KEY, "GPU X"));
    }
}
