package org.convcl.backend.cpu.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.convcl.testing.Processes;
import org.junit.jupiter.api.Test;

/**
 * A JVM started without {@code --add-modules jdk.incubator.vector} runs the Java path on plain loops, many times
 * slower: it is told so once, at WARN, with the flag that fixes it. Each case runs in a fresh JVM, since the
 * module is chosen when a JVM starts and the choice is logged once per JVM.
 */
class VectorApiWarningTest {

    private static List<String> warnings(List<String> jvmOptions) throws Exception {
        Map<String, String> environment = new HashMap<>();
        // Nothing from outside may add options: each case states its own.
        environment.put("JDK_JAVA_OPTIONS", null);
        environment.put("JAVA_TOOL_OPTIONS", null);
        Processes.Outcome outcome = Processes.run(Processes.javaCommand(jvmOptions, VectorApiProbe.class),
                environment, 120);
        assertEquals(0, outcome.exitCode(), outcome.all());
        // slf4j-simple's level word stands alone ("WARN"); the JVM's own notices say "WARNING:".
        return outcome.stderr().lines().filter(line -> line.matches(".*\\bWARN\\b.*")).toList();
    }

    @Test
    void withoutTheModuleOneWarningNamesTheFlagAndTheCost() throws Exception {
        List<String> warnings = warnings(List.of());
        assertEquals(1, warnings.size(), "exactly one WARN for a JVM that ran dense and depthwise kernels twice: "
                + warnings);
        String warning = warnings.get(0);
        assertTrue(warning.contains("--add-modules jdk.incubator.vector"), warning);
        assertTrue(warning.contains("times slower"), warning);
        assertTrue(warning.contains(VectorApiAbsence.WARNING), warning);
    }

    @Test
    void withTheModuleNothingIsSaid() throws Exception {
        assertEquals(List.of(), warnings(List.of("--add-modules", "jdk.incubator.vector")));
    }
}
