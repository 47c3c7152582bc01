package org.convcl.cli;

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
        String level = System.getenv("CONVCL_LOG_LEVEL");
        setIfAbsent("defaultLogLevel", level == null || level.isBlank() ? "info" : level.trim());
        setIfAbsent("showDateTime", "false");
        setIfAbsent("showThreadName", "false");
        setIfAbsent("showLogName", "false");
        setIfAbsent("showShortLogName", "true");
        setIfAbsent("levelInBrackets", "true");
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(PREFIX + key) == null) {
            System.setProperty(PREFIX + key, value);
        }
    }
}
