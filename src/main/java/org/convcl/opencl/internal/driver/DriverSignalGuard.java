package org.convcl.opencl.internal.driver;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.convcl.internal.Settings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Puts back the signal handlers an OpenCL driver call replaced, so that the JVM keeps its own.
 *
 * <p>LLVM-based drivers (PoCL, and others that link {@code libLLVM}) install SIGSEGV, SIGBUS, SIGILL, SIGFPE
 * (and more) handlers when they load, over the JVM's; the JVM relies on SIGSEGV for safepoint polls and null
 * checks and can then die at any time. Every driver call that may load or initialise such code (discovery,
 * context creation, program builds) runs inside {@link #around}: the handlers of signals 1 to 31 are read before
 * and any that changed are installed back after. Nested and concurrent sections share one reading, taken when
 * none was open, and restore when the last one closes, so no driver's handler is ever mistaken for the JVM's.
 *
 * <p>Active on JDK 22 and newer on Linux x86-64 and AArch64 ({@link NativeSigaction}), unless the JDK's own
 * signal chaining ({@code libjsig}) is loaded, which solves the same problem better and must not be bypassed,
 * or {@code convcl.signals.restore} / {@code CONVCL_SIGNALS_RESTORE} is {@code false}. Elsewhere it does nothing
 * and {@link SignalChainingCheck} warns instead. Thread-safe.
 */
public final class DriverSignalGuard {
    private static final Logger LOG = LoggerFactory.getLogger(DriverSignalGuard.class);
    private static final int SIGKILL = 9;
    private static final int SIGSTOP = 19;
    private static final int LAST_STANDARD_SIGNAL = 31;
    private static final DriverSignalGuard INSTANCE = new DriverSignalGuard(bindIfWanted());

    private final NativeSigaction sigaction;
    private int open;
    private byte[][] before;
    private int restoredInAll;

    private DriverSignalGuard(NativeSigaction sigaction) {
        this.sigaction = sigaction;
    }

    /** Whether driver calls are guarded in this JVM. */
    public static boolean active() {
        return INSTANCE.sigaction != null;
    }

    /** How many handlers were put back so far in this JVM (for tests and diagnostics). */
    static synchronized int restoredSoFar() {
        return INSTANCE.restoredInAll;
    }

    /** Runs {@code driverCall} with the process's signal handlers as they were before it, whatever it installs. */
    public static <T> T around(String what, Supplier<T> driverCall) {
        if (!active()) {
            return driverCall.get();
        }
        INSTANCE.enter();
        try {
            return driverCall.get();
        } finally {
            INSTANCE.exit(what);
        }
    }

    /** {@link #around(String, Supplier)} for a call without a result. */
    public static void around(String what, Runnable driverCall) {
        around(what, () -> {
            driverCall.run();
            return null;
        });
    }

    private synchronized void enter() {
        if (open++ == 0) {
            before = new byte[LAST_STANDARD_SIGNAL + 1][];
            for (int signal = 1; signal <= LAST_STANDARD_SIGNAL; signal++) {
                if (signal != SIGKILL && signal != SIGSTOP) {
                    before[signal] = sigaction.get(signal);
                }
            }
        }
    }

    private synchronized void exit(String what) {
        if (--open > 0) {
            return;
        }
        List<Integer> restored = new ArrayList<>();
        for (int signal = 1; signal <= LAST_STANDARD_SIGNAL; signal++) {
            if (before[signal] != null && !NativeSigaction.sameAction(before[signal], sigaction.get(signal))) {
                sigaction.set(signal, before[signal]);
                restored.add(signal);
            }
        }
        before = null;
        if (!restored.isEmpty()) {
            restoredInAll += restored.size();
            LOG.debug("{} replaced the handlers of signals {}; the JVM's are installed back", what, restored);
        }
    }

    private static NativeSigaction bindIfWanted() {
        boolean wanted;
        try {
            wanted = Settings.SIGNALS_RESTORE.get();
        } catch (IllegalArgumentException e) {
            // Not refused: this runs in the class's initialiser, where a throw would leave every later driver call
            // failing with a NoClassDefFoundError that no longer names the setting (auto could not even fall
            // back to the Java path). The value is reported and treated as false, as before.
            LOG.warn("{}, so the signal handlers are left as drivers set them", e.getMessage());
            return null;
        }
        if (!wanted) {
            return null;
        }
        if (signalChainingLoaded()) {
            return null;
        }
        return NativeSigaction.load().orElse(null);
    }

    private static boolean signalChainingLoaded() {
        try {
            return SignalChainingCheck.mappedLibraries(Files.readAllLines(Path.of("/proc/self/maps"))).stream()
                    .anyMatch(path -> path.endsWith("/libjsig.so"));
        } catch (IOException | RuntimeException e) {
            // Without the map there is no telling; guarding under libjsig could fight it, so stay out.
            return true;
        }
    }
}
