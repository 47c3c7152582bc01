package org.convcl.internal;

import java.nio.file.Path;
import java.util.List;

/**
 * The registry of every setting convcl reads: each is declared here once, with its system property, environment
 * variable, default, meaning and rule, and read only through its {@link Setting} (property first, blank =
 * unset, a value the rule refuses is an error naming the setting, where it came from, the value and the rule).
 * docs/settings.md lists them; {@code SettingsTableTest} keeps that table and this registry equal.
 *
 * <p>Properties and variables of others (java.home, XDG_CACHE_HOME, POCL_*, LD_LIBRARY_PATH, slf4j-simple's)
 * are read where they are used; only convcl's own are here.
 */
public final class Settings {
    // The names follow one pattern: property convcl.a.bC, variable CONVCL_A_B_C.

    /** Backend override for an {@code auto} request. */
    public static final Setting<String> BACKEND = new Setting<>("BACKEND", "convcl.backend", "CONVCL_BACKEND",
            "auto", "auto", "the backend an auto request uses: auto picks a GPU or accelerator, else the Java path",
            SettingRule.oneOf("auto", "cpu", "opencl"));
    /** OpenCL device: an index in {@code convcl devices}' list or a case-insensitive name substring. */
    public static final Setting<String> DEVICE = new Setting<>("DEVICE", "convcl.device", "CONVCL_DEVICE",
            null, "the best: a GPU, then an accelerator, then (not for auto) a CPU", "the OpenCL device used",
            SettingRule.text("a device index or a case-insensitive substring of a device's name"));
    /** A directory whose {@code *.cl} files replace the packaged kernel sources (kernel development). */
    public static final Setting<Path> KERNELS_DIR = new Setting<>("KERNELS_DIR", "convcl.kernels.dir",
            "CONVCL_KERNELS_DIR", null, "the sources in the jar",
            "a folder whose *.cl files replace the packaged kernel sources (kernel development)",
            SettingRule.existingDirectory());
    /** Where compiled program binaries and tuning results are cached. */
    public static final Setting<Path> CACHE_DIR = new Setting<>("CACHE_DIR", "convcl.cache.dir", "CONVCL_CACHE_DIR",
            null, "$XDG_CACHE_HOME/convcl, else ~/.cache/convcl",
            "where compiled OpenCL programs (not on PoCL, whose own cache keeps them) and tuning results are "
                    + "cached (one that cannot be written is a warning)",
            SettingRule.path());
    /**
     * Whether OpenCL driver calls put back the signal handlers a driver replaced; effective on JDK 22 and newer
     * without the JDK's libjsig.
     */
    public static final Setting<Boolean> SIGNALS_RESTORE = new Setting<>("SIGNALS_RESTORE", "convcl.signals.restore",
            "CONVCL_SIGNALS_RESTORE", true, "true",
            "whether driver calls put back the signal handlers a driver replaced (JDK 22+, without libjsig)",
            SettingRule.bool());

    /** Threads of the Java path, the calling thread included. */
    public static final Setting<Integer> CPU_THREADS = new Setting<>("CPU_THREADS", "convcl.cpu.threads",
            "CONVCL_CPU_THREADS", null, "every available processor, at most 1024",
            "threads the Java path computes on, the calling thread included; read once",
            SettingRule.intRange(1, 1024));
    /** How long an idle worker of the Java path spins before parking, in microseconds. */
    public static final Setting<Integer> CPU_SPIN_MICROS = new Setting<>("CPU_SPIN_MICROS", "convcl.cpu.spin.us",
            "CONVCL_CPU_SPIN_US", 10_000, "10000",
            "microseconds an idle worker of the Java path spins before parking (0 parks at once); read once",
            SettingRule.intRange(0, 1_000_000));
    /** Turns the Java path's Winograd tiles and phases off, for comparisons. */
    public static final Setting<Boolean> CPU_NO_WINOGRAD = new Setting<>("CPU_NO_WINOGRAD", "convcl.cpu.noWinograd",
            "CONVCL_CPU_NO_WINOGRAD", false, "false",
            "true turns the Java path's Winograd tiles and phases off (for comparisons); read once",
            SettingRule.bool());
    /** Turns the Java path's Vector API kernels off, for comparisons. */
    public static final Setting<Boolean> CPU_NO_VECTOR_API = new Setting<>("CPU_NO_VECTOR_API",
            "convcl.cpu.noVectorApi", "CONVCL_CPU_NO_VECTOR_API", false, "false",
            "true makes the Java path use plain loops instead of the Vector API (for comparisons); read once",
            SettingRule.bool());

    /** Whether host-array transfers go through pinned staging memory. */
    public static final Setting<String> OPENCL_PINNED_STAGING = new Setting<>("OPENCL_PINNED_STAGING",
            "convcl.opencl.pinnedStaging", "CONVCL_OPENCL_PINNED_STAGING", "auto", "auto",
            "whether host-array transfers go through pinned staging memory; auto: unless the device is a CPU",
            SettingRule.oneOf("auto", "true", "false"));
    /** Input or output bytes per chunk of a pipelined host-array call; also the piece size of staged copies. */
    public static final Setting<Long> OPENCL_PIPELINE_CHUNK_BYTES = new Setting<>("OPENCL_PIPELINE_CHUNK_BYTES",
            "convcl.opencl.pipelineChunkBytes", "CONVCL_OPENCL_PIPELINE_CHUNK_BYTES", 4L << 20, "4194304",
            "bytes of input or output per chunk of a host-array call, and per staged copy (it can only be lowered)",
            SettingRule.longRange(1, 4L << 20));
    /** Lowers the largest buffer the OpenCL backend allocates. */
    public static final Setting<Long> OPENCL_MAX_ALLOCATION_BYTES = new Setting<>("OPENCL_MAX_ALLOCATION_BYTES",
            "convcl.opencl.maxAllocationBytes", "CONVCL_OPENCL_MAX_ALLOCATION_BYTES", null,
            "the device's CL_DEVICE_MAX_MEM_ALLOC_SIZE",
            "the most bytes one buffer may take; lowers the device's limit (a larger value leaves it)",
            SettingRule.longRange(1, Long.MAX_VALUE));
    /** Lowers the device memory the OpenCL backend counts on. */
    public static final Setting<Long> OPENCL_MEMORY_BYTES = new Setting<>("OPENCL_MEMORY_BYTES",
            "convcl.opencl.memoryBytes", "CONVCL_OPENCL_MEMORY_BYTES", null, "the device's CL_DEVICE_GLOBAL_MEM_SIZE",
            "device memory a call counts on (it uses three quarters); lowers the device's (a larger value leaves it)",
            SettingRule.longRange(1, Long.MAX_VALUE));
    /** Capacity of each OpenCL backend's plan cache. */
    public static final Setting<Integer> OPENCL_PLAN_CACHE_SIZE = new Setting<>("OPENCL_PLAN_CACHE_SIZE",
            "convcl.opencl.planCacheSize", "CONVCL_OPENCL_PLAN_CACHE_SIZE", 256, "256",
            "capacity of each OpenCL backend's plan cache", SettingRule.intRange(1, Integer.MAX_VALUE));

    /** The command-line tool prints a failure's stack trace. */
    public static final Setting<Boolean> CLI_DEBUG = new Setting<>("CLI_DEBUG", "convcl.debug", "CONVCL_DEBUG",
            false, "0", "command-line tool only: 1 prints a failure's stack trace", SettingRule.flag());
    /** The command-line tool's log level (its slf4j-simple's own property wins). */
    public static final Setting<String> CLI_LOG_LEVEL = new Setting<>("CLI_LOG_LEVEL", "convcl.log.level",
            "CONVCL_LOG_LEVEL", "info", "info",
            "command-line tool only: the level of its log lines on stderr (-Dorg.slf4j.simpleLogger.defaultLogLevel wins)",
            SettingRule.oneOf("trace", "debug", "info", "warn", "error", "off"));

    private static final List<Setting<?>> ALL = List.of(BACKEND, DEVICE, KERNELS_DIR, CACHE_DIR, SIGNALS_RESTORE,
            CPU_THREADS, CPU_SPIN_MICROS, CPU_NO_WINOGRAD, CPU_NO_VECTOR_API, OPENCL_PINNED_STAGING,
            OPENCL_PIPELINE_CHUNK_BYTES, OPENCL_MAX_ALLOCATION_BYTES, OPENCL_MEMORY_BYTES, OPENCL_PLAN_CACHE_SIZE,
            CLI_DEBUG, CLI_LOG_LEVEL);

    private Settings() {
    }

    /** Every setting, in the order of docs/settings.md. */
    public static List<Setting<?>> all() {
        return ALL;
    }
}
