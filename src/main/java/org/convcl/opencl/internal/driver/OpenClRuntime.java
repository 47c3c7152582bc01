package org.convcl.opencl.internal.driver;

import java.util.Optional;
import org.jocl.CL;

/**
 * Loads JOCL's native library and the OpenCL ICD loader once per JVM, and remembers why that failed if it
 * did: a failed load leaves JOCL's {@code CL} class unusable for the rest of the process, so the first
 * reason is the only one worth reporting. Thread-safe.
 */
public final class OpenClRuntime {
    private static final Object LOCK = new Object();
    private static boolean attempted;
    private static String failure;

    private OpenClRuntime() {
    }

    /** Empty when OpenCL can be called; otherwise why it cannot, in one line. */
    public static Optional<String> unavailableReason() {
        synchronized (LOCK) {
            if (!attempted) {
                attempted = true;
                failure = load();
            }
            return Optional.ofNullable(failure);
        }
    }

    /** Throws {@link IllegalStateException} with the reason when OpenCL cannot be called. */
    public static void require() {
        unavailableReason().ifPresent(reason -> {
            throw new IllegalStateException("OpenCL is not available: " + reason);
        });
    }

    private static String load() {
        Optional<String> predicted = IcdLoaderProbe.predictedFailure();
        if (predicted.isPresent()) {
            return predicted.get();
        }
        try {
            // Initialises JOCL (its native library and the ICD loader it dlopens). From here on every CL
            // call throws CLException on failure; Cl turns those into OpenClException.
            CL.setExceptionsEnabled(true);
            return null;
        } catch (UnsatisfiedLinkError e) {
            // JOCL 2.0.5 asks the dynamic linker for "libOpenCL.so", the name a development package
            // provides; systems with only the runtime loader have "libOpenCL.so.1" and nothing else.
            return "the OpenCL library could not be loaded (" + firstLine(e.getMessage()) + "); JOCL needs the "
                    + "OpenCL ICD loader under the name libOpenCL.so: install it (Debian/Ubuntu: ocl-icd-opencl-dev, "
                    + "which adds that name to ocl-icd-libopencl1) or put a libOpenCL.so link to libOpenCL.so.1 on "
                    + "LD_LIBRARY_PATH";
        } catch (LinkageError | SecurityException e) {
            return "the OpenCL library could not be loaded (" + e.getClass().getSimpleName() + ": "
                    + firstLine(e.getMessage()) + ")";
        }
    }

    private static String firstLine(String text) {
        if (text == null) {
            return "no detail";
        }
        int newline = text.indexOf('\n');
        return (newline < 0 ? text : text.substring(0, newline)).strip();
    }
}
