package org.convcl.opencl.internal.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The probe verdicts on disk: remembered per key, never trusted for another key, never an error to keep. */
class ProbeVerdictsTest {
    private static final String KEY = "device=GPU X; driver=1.2; variant=MMA_TENSOR_CORES; sources=abc";
    private static final ProbeVerdicts.Verdict FAILED = new ProbeVerdicts.Verdict(false,
            "it failed to build: error: unknown\ninstruction 'asm'");

    @TempDir
    Path dir;

    @Test
    void aVerdictIsReadBackForItsKeyAndDeviceOnly() {
        ProbeVerdicts verdicts = new ProbeVerdicts(dir.resolve("probes"));
        Path file = verdicts.write(KEY, "GPU X", FAILED).orElseThrow();
        assertTrue(file.getFileName().toString().startsWith("gpu-x-"), file.toString());
        assertEquals(Optional.of(FAILED), verdicts.read(KEY, "GPU X"), "a reason with a line break survives");
        assertEquals(Optional.empty(), verdicts.read(KEY.replace("1.2", "1.3"), "GPU X"), "another driver");
        ProbeVerdicts.Verdict passed = new ProbeVerdicts.Verdict(true, "");
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
