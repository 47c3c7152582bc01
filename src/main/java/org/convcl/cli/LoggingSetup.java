package org.convcl.cli;

import org.convcl.internal.Settings;

/**
 * Settings for slf4j-simple, the logging binding shaded into the CLI jar: log lines go to stderr at INFO in a
 * short format, so that stdout carries results only. Anything already set (a {@code -D} system property in
 * CONVCL_JAVA_OPTS) wins; CONVCL_LOG_LEVEL (trace, debug, info, warn, error, off) sets the level.
 */
final class LoggingSetup {
    private static final String PREFIX = "org.slf4j.simpleLogger.";

    private LoggingSetup() {
    }

    static void configure() {
        setIfAbsent("logFile", "System.err");
        setIfAbsent("defaultLogLevel", level());
        setIfAbsent("showDateTime", "false");
        setIfAbsent("showThreadName", "false");
        setIfAbsent("showLogName", "false");
        setIfAbsent("showShortLogName", "true");
        setIfAbsent("levelInBrackets", "true");
    }

    /**
     * Not refused when bad: this runs in {@code Main}'s static initialiser, before any logger, where a throw would
     * end the tool with a JVM stack trace instead of its one line. The problem is printed and the level is info.
     */
    private static String level() {
        try {
            return Settings.CLI_LOG_LEVEL.get();
        } catch (IllegalArgumentException e) {
            System.err.println("convcl: " + e.getMessage() + "; logging at info");
            return Settings.CLI_LOG_LEVEL.defaultValue();
        }
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(PREFIX + key) == null) {
            System.setProperty(PREFIX + key, value);
        }
    }
}
