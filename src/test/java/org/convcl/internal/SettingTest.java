package org.convcl.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The rules at their edges and the property-over-variable order, through {@link Setting#resolve} (the raw
 * property and variable values), since a test cannot set environment variables.
 */
class SettingTest {
    @Test
    void intRangesAcceptTheirEndsAndRefuseTheNextValues() {
        assertAccepts(Settings.CPU_THREADS, "1", 1);
        assertAccepts(Settings.CPU_THREADS, "1024", 1024);
        assertRefused(Settings.CPU_THREADS, "0");
        assertRefused(Settings.CPU_THREADS, "1025");
        assertAccepts(Settings.CPU_SPIN_MICROS, "0", 0);
        assertAccepts(Settings.CPU_SPIN_MICROS, "1000000", 1_000_000);
        assertRefused(Settings.CPU_SPIN_MICROS, "-1");
        assertRefused(Settings.CPU_SPIN_MICROS, "1000001");
        assertAccepts(Settings.OPENCL_PLAN_CACHE_SIZE, "1", 1);
        assertAccepts(Settings.OPENCL_PLAN_CACHE_SIZE, Integer.toString(Integer.MAX_VALUE), Integer.MAX_VALUE);
        assertRefused(Settings.OPENCL_PLAN_CACHE_SIZE, "0");
        assertRefused(Settings.OPENCL_PLAN_CACHE_SIZE, Long.toString(Integer.MAX_VALUE + 1L));
        for (String notAnInteger : new String[] {"two", "1.5", "0x10", "1e3", "3 4"}) {
            assertRefused(Settings.CPU_THREADS, notAnInteger);
        }
    }

    @Test
    void byteCountsAcceptTheirEndsAndRefuseTheNextValues() {
        long chunkDefault = Settings.OPENCL_PIPELINE_CHUNK_BYTES.defaultValue();
        assertAccepts(Settings.OPENCL_PIPELINE_CHUNK_BYTES, "1", 1L);
        assertAccepts(Settings.OPENCL_PIPELINE_CHUNK_BYTES, Long.toString(chunkDefault), chunkDefault);
        assertRefused(Settings.OPENCL_PIPELINE_CHUNK_BYTES, "0");
        assertRefused(Settings.OPENCL_PIPELINE_CHUNK_BYTES, Long.toString(chunkDefault + 1));
        assertAccepts(Settings.OPENCL_MAX_ALLOCATION_BYTES, Long.toString(Long.MAX_VALUE), Long.MAX_VALUE);
        assertRefused(Settings.OPENCL_MAX_ALLOCATION_BYTES, "0");
        assertRefused(Settings.OPENCL_MEMORY_BYTES, "9223372036854775808");
        assertRefused(Settings.OPENCL_MEMORY_BYTES, "4GiB");
    }

    @Test
    void booleansFlagsAndWordsTakeTheirWordsInAnyCaseAndNothingElse() {
        assertAccepts(Settings.SIGNALS_RESTORE, "TRUE", true);
        assertAccepts(Settings.SIGNALS_RESTORE, "False", false);
        for (String bad : new String[] {"yes", "1", "on", "truee"}) {
            assertRefused(Settings.CPU_NO_WINOGRAD, bad);
        }
        assertAccepts(Settings.CLI_DEBUG, "1", true);
        assertAccepts(Settings.CLI_DEBUG, "0", false);
        assertRefused(Settings.CLI_DEBUG, "true");
        assertAccepts(Settings.BACKEND, "OpenCL", "opencl");
        assertAccepts(Settings.OPENCL_PINNED_STAGING, "Auto", "auto");
        assertRefused(Settings.BACKEND, "gpu");
        assertRefused(Settings.CLI_LOG_LEVEL, "verbose");
        assertAccepts(Settings.DEVICE, "NVIDIA H100", "NVIDIA H100");
    }

    @Test
    void directoriesMustExistAndPathsMustBeNames(@TempDir Path folder) throws IOException {
        assertAccepts(Settings.KERNELS_DIR, folder.toString(), folder);
        assertRefused(Settings.KERNELS_DIR, folder.resolve("missing").toString());
        Path file = Files.writeString(folder.resolve("conv_gemm.cl"), "");
        assertRefused(Settings.KERNELS_DIR, file.toString());
        assertAccepts(Settings.CACHE_DIR, folder.resolve("missing").toString(), folder.resolve("missing"));
        assertRefused(Settings.CACHE_DIR, "bad\0name");
    }

    @Test
    void blankIsUnsetAndValuesAreTrimmed() {
        assertEquals(Optional.empty(), Settings.CPU_THREADS.resolve(null, null));
        assertEquals(Optional.empty(), Settings.CPU_THREADS.resolve("", " \t"));
        assertEquals(Optional.of(3), Settings.CPU_THREADS.resolve(" 3 ", null));
    }

    @Test
    void thePropertyWinsOverTheVariableEvenWhenBad() {
        assertEquals(Optional.of(3), Settings.CPU_THREADS.resolve("3", "5"));
        assertEquals(Optional.of(5), Settings.CPU_THREADS.resolve(null, "5"));
        assertEquals(Optional.of(5), Settings.CPU_THREADS.resolve("  ", "5"), "a blank property leaves the variable");
        String fromProperty = assertThrows(IllegalArgumentException.class,
                () -> Settings.CPU_THREADS.resolve("0", "5")).getMessage();
        assertTrue(fromProperty.startsWith("system property convcl.cpu.threads: '0'"), fromProperty);
        String fromVariable = assertThrows(IllegalArgumentException.class,
                () -> Settings.CPU_THREADS.resolve(null, "0")).getMessage();
        assertTrue(fromVariable.startsWith("environment variable CONVCL_CPU_THREADS: '0'"), fromVariable);
    }

    @Test
    void theLiveValueComesFromTheSystemPropertyAndFallsBackToTheDefault() {
        Setting<Integer> setting = Settings.OPENCL_PLAN_CACHE_SIZE;
        String old = System.getProperty(setting.property());
        try {
            System.setProperty(setting.property(), "7");
            assertEquals(7, setting.get());
            assertEquals("system property " + setting.property(), setting.source());
            System.setProperty(setting.property(), "0");
            assertThrows(IllegalArgumentException.class, setting::get);
            if (System.getenv(setting.environmentVariable()) == null) {
                System.clearProperty(setting.property());
                assertEquals(setting.defaultValue(), setting.get());
            }
        } finally {
            if (old == null) {
                System.clearProperty(setting.property());
            } else {
                System.setProperty(setting.property(), old);
            }
        }
        assertThrows(IllegalStateException.class, Settings.CPU_THREADS::get, "no fixed default: the caller decides");
    }

    private static <T> void assertAccepts(Setting<T> setting, String text, T expected) {
        assertEquals(Optional.of(expected), setting.resolve(text, null), setting.property() + " = '" + text + "'");
    }

    /** The error names the setting, where the value came from, the value and the rule. */
    private static void assertRefused(Setting<?> setting, String text) {
        String message = assertThrows(IllegalArgumentException.class, () -> setting.resolve(text, null),
                setting.property() + " = '" + text + "'").getMessage();
        assertEquals("system property " + setting.property() + ": '" + text + "' is not allowed; expected "
                + setting.rule().description(), message);
    }
}
