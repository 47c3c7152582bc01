package org.convcl.opencl.device;

/**
 * An OpenCL program did not compile. The message carries the compiler's build log, the source name and the
 * build options, so that a broken kernel (for instance from a {@code convcl.kernels.dir} override) can be
 * fixed from the error alone.
 */
public final class KernelBuildException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String buildLog;

    public KernelBuildException(String sourceName, String device, String options, String buildLog,
            Throwable cause) {
        super("building kernel source " + sourceName + " for " + device + " failed with options [" + options
                + "]; build log:\n" + (buildLog.isBlank() ? "(empty)" : buildLog.strip()), cause);
        this.buildLog = buildLog;
    }

    /** The compiler's log, as the driver returned it. */
    public String buildLog() {
        return buildLog;
    }
}
