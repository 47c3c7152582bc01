package org.convcl.internal;

import java.util.Optional;

/**
 * Reads the library's overrides: a system property wins over the environment variable of the same meaning,
 * so that a test (which cannot set variables) or an application can take precedence over the shell.
 * Blank values count as unset. Thread-safe; nothing is cached, so a changed property applies to the next
 * lookup.
 */
public final class Settings {
    /** Backend override ({@code auto}, {@code cpu} or {@code opencl}) for an {@code auto} request. */
    public static final Setting BACKEND = new Setting("convcl.backend", "CONVCL_BACKEND");
    /** OpenCL device: an index in {@code convcl devices}' list or a case-insensitive name substring. */
    public static final Setting DEVICE = new Setting("convcl.device", "CONVCL_DEVICE");
    /** A directory whose {@code *.cl} files replace the packaged kernel sources (kernel development). */
    public static final Setting KERNELS_DIR = new Setting("convcl.kernels.dir", "CONVCL_KERNELS_DIR");
    /** Where compiled program binaries (and later tuning results) are cached. */
    public static final Setting CACHE_DIR = new Setting("convcl.cache.dir", "CONVCL_CACHE_DIR");

    /**
     * How many plans (compiled kernels with their tables) one OpenCL backend keeps, least recently used evicted
     * first: a positive integer, 256 when unset.
     */
    public static final Setting PLAN_CACHE_SIZE = new Setting("convcl.opencl.planCacheSize",
            "CONVCL_OPENCL_PLAN_CACHE_SIZE");

    /**
     * Whether OpenCL driver calls put back the signal handlers a driver replaced ({@code true}, the default, or
     * {@code false}); effective on JDK 22 and newer without the JDK's libjsig.
     */
    public static final Setting SIGNALS_RESTORE = new Setting("convcl.signals.restore", "CONVCL_SIGNALS_RESTORE");

    private Settings() {
    }

    /** One override, readable as a system property or an environment variable. */
    public record Setting(String property, String environmentVariable) {
        /** The value in force, property first; empty when neither is set (or both are blank). */
        public Optional<String> value() {
            String fromProperty = System.getProperty(property);
            if (fromProperty != null && !fromProperty.isBlank()) {
                return Optional.of(fromProperty.trim());
            }
            String fromEnvironment = System.getenv(environmentVariable);
            if (fromEnvironment != null && !fromEnvironment.isBlank()) {
                return Optional.of(fromEnvironment.trim());
            }
            return Optional.empty();
        }

        /** Where the value in force comes from, for messages: {@code system property convcl.device}. */
        public String source() {
            String fromProperty = System.getProperty(property);
            if (fromProperty != null && !fromProperty.isBlank()) {
                return "system property " + property;
            }
            return "environment variable " + environmentVariable;
        }
    }
}
