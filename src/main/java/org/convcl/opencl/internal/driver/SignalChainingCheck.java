package org.convcl.opencl.internal.driver;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Warns, once per JVM, when an OpenCL driver that replaces signal handlers is loaded while the JDK's signal
 * chaining is not.
 *
 * <p>LLVM-based OpenCL drivers (PoCL, and others that link {@code libLLVM}) install their own SIGSEGV, SIGBUS,
 * SIGILL and SIGFPE handlers when they load. The JVM uses SIGSEGV for safepoint polls and implicit null checks,
 * so with the driver's handler in place the next armed poll kills the process. The JDK's {@code libjsig},
 * preloaded, keeps the JVM's handlers first. A library cannot preload anything, so it looks at what the
 * process has mapped ({@code /proc/self/maps} on Linux) after the drivers loaded, and says how to fix it.
 * Elsewhere, or when the map cannot be read, it says nothing.
 */
public final class SignalChainingCheck {
    private static final Logger LOG = LoggerFactory.getLogger(SignalChainingCheck.class);
    /** File names of libraries known to install signal handlers when an OpenCL driver loads them. */
    private static final Pattern HANDLER_INSTALLERS =
            Pattern.compile("lib(LLVM|pocl|clang-cpp)([-.].*)?\\.so(\\..*)?");
    private static final String JSIG = "libjsig.so";
    private static volatile boolean checked;

    private SignalChainingCheck() {
    }

    /** Logs the warning when it applies; at most once per JVM, and only on the first call's findings. */
    public static void warnIfUnprotected() {
        if (checked) {
            return;
        }
        synchronized (SignalChainingCheck.class) {
            if (checked) {
                return;
            }
            checked = true;
        }
        if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
            return;
        }
        List<String> mapped;
        try {
            mapped = Files.readAllLines(Path.of("/proc/self/maps"));
        } catch (IOException | RuntimeException e) {
            LOG.debug("could not read /proc/self/maps to check signal chaining: {}", e.toString());
            return;
        }
        problem(mappedLibraries(mapped), System.getProperty("java.home", "")).ifPresent(LOG::warn);
    }

    /** The distinct file paths in {@code /proc/self/maps} lines, in order of first appearance. */
    static List<String> mappedLibraries(List<String> mapsLines) {
        Set<String> paths = new LinkedHashSet<>();
        for (String line : mapsLines) {
            // address perms offset dev inode [path]; the path may hold spaces, so take everything after the inode.
            String[] fields = line.trim().split("\\s+", 6);
            if (fields.length == 6 && fields[5].startsWith("/")) {
                paths.add(fields[5].replaceFirst(" \\(deleted\\)$", ""));
            }
        }
        return new ArrayList<>(paths);
    }

    /**
     * The warning for a process that has {@code mappedLibraries} loaded, or empty when no handler-installing
     * driver is there or {@code libjsig} is.
     */
    static Optional<String> problem(List<String> mappedLibraries, String javaHome) {
        String installer = null;
        for (String path : mappedLibraries) {
            String name = fileName(path);
            if (name.equals(JSIG)) {
                return Optional.empty();
            }
            if (installer == null && HANDLER_INSTALLERS.matcher(name).matches()) {
                installer = path;
            }
        }
        if (installer == null) {
            return Optional.empty();
        }
        Path jsig = javaHome.isEmpty() ? null : Path.of(javaHome, "lib", JSIG);
        String preload = jsig != null && Files.isRegularFile(jsig) ? "LD_PRELOAD=" + jsig
                : "LD_PRELOAD=<your JDK>/lib/" + JSIG + " (this runtime has none)";
        return Optional.of("OpenCL driver library " + installer + " is loaded without the JDK's signal chaining ("
                + JSIG + "): it replaces the JVM's SIGSEGV, SIGBUS, SIGILL and SIGFPE handlers, and the JVM can "
                + "then die with SIGSEGV at any time. Start java with " + preload + " in its environment "
                + "(scripts/convcl does this), or keep OpenCL out of this JVM with -Dconvcl.backend=cpu");
    }

    private static String fileName(String path) {
        int slash = path.lastIndexOf('/');
        return slash < 0 ? path : path.substring(slash + 1);
    }
}
