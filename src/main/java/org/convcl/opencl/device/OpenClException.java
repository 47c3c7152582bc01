package org.convcl.opencl.device;

/**
 * An OpenCL call failed. The message names the operation and the CL error ({@code CL_OUT_OF_RESOURCES}),
 * and {@link #status()} holds the numeric code.
 */
public class OpenClException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int status;
    private final String operation;

    public OpenClException(String operation, int status, String errorName, Throwable cause) {
        super(operation + " failed: " + errorName + " (" + status + ")", cause);
        this.status = status;
        this.operation = operation;
    }

    /** The CL status code, e.g. -4 for {@code CL_MEM_OBJECT_ALLOCATION_FAILURE}. */
    public int status() {
        return status;
    }

    /** What was being done, e.g. {@code clCreateBuffer (4096 bytes)}. */
    public String operation() {
        return operation;
    }
}
