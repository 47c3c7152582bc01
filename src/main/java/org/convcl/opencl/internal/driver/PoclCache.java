package org.convcl.opencl.internal.driver;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * PoCL's compiler cache: whether it keeps compiled programs (so convcl need not), and its directory, for saying
 * why a PoCL platform has no device. PoCL makes that directory when it initialises its devices, even with its
 * kernel cache turned off, and when it cannot, it reports no device at all, explaining only under
 * {@code POCL_DEBUG}: the user sees an OpenCL platform without devices and no cause. No setting lets PoCL run
 * without it, and a process cannot change its own environment for a driver it has already loaded, so the remedy is
 * the user's: {@code POCL_CACHE_DIR} naming a writable directory.
 *
 * <p>The directory is found as PoCL 3 finds it on Linux: {@code POCL_CACHE_DIR}, else
 * {@code $XDG_CACHE_HOME/pocl/kcache} (when set and not empty), else {@code $HOME/.cache/pocl/kcache}, else
 * {@code /tmp/pocl/kcache}; {@code uncached} instead of {@code kcache} when {@code POCL_KERNEL_CACHE} is set to
 * anything but a value starting with 1 (PoCL's reading of a boolean).
 */
public final class PoclCache {
    static final String VARIABLE = "POCL_CACHE_DIR";

    private PoclCache() {
    }

    /** Whether {@code platformName} is PoCL's ("Portable Computing Language"). */
    public static boolean isPocl(String platformName) {
        String name = platformName.toLowerCase(Locale.ROOT);
        return name.contains("portable computing language") || name.contains("pocl");
    }

    /**
     * Whether PoCL, under {@code environment}, keeps what it compiles across processes: its kernel cache is on
     * unless {@code POCL_KERNEL_CACHE} is set to a value not starting with 1. It then keeps each built program
     * (keyed by source, options and device) and each work-group function it generated, so a second process skips
     * the compiler as convcl's own binary cache would let it.
     */
    public static boolean keepsCompiledPrograms(Map<String, String> environment) {
        String kernelCache = environment.get("POCL_KERNEL_CACHE");
        return kernelCache == null || kernelCache.startsWith("1");
    }

    /** The directory PoCL makes for its cache under {@code environment}. */
    static Path directory(Map<String, String> environment) {
        String configured = environment.get(VARIABLE);
        if (configured != null) {
            return Path.of(configured);
        }
        String leaf = keepsCompiledPrograms(environment) ? "kcache" : "uncached";
        String xdg = environment.get("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isEmpty()) {
            return Path.of(xdg, "pocl", leaf);
        }
        String home = environment.get("HOME");
        return home != null ? Path.of(home, ".cache", "pocl", leaf) : Path.of("/tmp", "pocl", leaf);
    }

    /**
     * Why PoCL, under {@code environment}, cannot have had a device: its cache directory cannot be made or written.
     * Empty when the directory is usable (then PoCL has no device for another reason).
     */
    public static Optional<String> whyNoDevice(Map<String, String> environment) {
        Path directory = directory(environment);
        return CacheDirectories.unusable(directory).map(reason -> "PoCL lists no device because it cannot use its "
                + "cache directory " + directory + " (" + reason + "); PoCL needs a writable cache directory even "
                + "with its kernel cache off: set " + VARIABLE + " to one"
                + (environment.containsKey(VARIABLE) ? "" : " (by default it is under $XDG_CACHE_HOME, else ~/.cache)"));
    }
}
