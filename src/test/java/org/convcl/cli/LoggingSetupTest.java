package org.convcl.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import org.junit.jupiter.api.Test;

/** The CLI's logging binding is set up to keep stdout for results. */
class LoggingSetupTest {

    @Test
    void mainSendsLogsToStderr() throws Exception {
        Class.forName(Main.class.getName(), true, Main.class.getClassLoader());
        assertEquals("System.err", System.getProperty("org.slf4j.simpleLogger.logFile"));
        assertNotEquals(null, System.getProperty("org.slf4j.simpleLogger.defaultLogLevel"));
    }
}
