package org.convcl.opencl.internal.runtime;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Objects;
import org.convcl.opencl.device.OpenClException;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_event;

/**
 * The OpenCL event calls the package needs, in one place: waiting, reading a command's execution status,
 * retaining and releasing, and building wait lists that skip absent events. Queries go through direct memory,
 * like every other query here (JOCL loses what drivers write into Java arrays under {@code -Xcheck:jni}).
 */
public final class ClEvents {
    private static final cl_event[] NONE = new cl_event[0];

    private ClEvents() {
    }

    /** The non-null events of {@code events}, as a wait list (empty when none). */
    static cl_event[] waitList(cl_event... events) {
        if (events == null || events.length == 0) {
            return NONE;
        }
        cl_event[] present = Arrays.stream(events).filter(Objects::nonNull).toArray(cl_event[]::new);
        return present.length == 0 ? NONE : present;
    }

    /**
     * Waits for {@code event} and returns its execution status: {@code CL_COMPLETE} (0), or the negative error of
     * a command that failed (asynchronous errors are reported only this way). Never throws for a failed command;
     * the caller names the call that produced it.
     */
    public static int await(cl_event event) {
        try {
            CL.clWaitForEvents(1, new cl_event[] {event});
        } catch (CLException e) {
            // CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST: the command failed; its own status says how.
            int status = status(event);
            return status < 0 ? status : e.getStatus();
        }
        return status(event);
    }

    /** The event's {@code CL_EVENT_COMMAND_EXECUTION_STATUS}, without waiting: 0 when complete, negative on failure. */
    public static int status(cl_event event) {
        ByteBuffer value = Cl.direct(Sizeof.cl_int);
        Cl.run("clGetEventInfo(CL_EVENT_COMMAND_EXECUTION_STATUS)", () -> CL.clGetEventInfo(event,
                CL.CL_EVENT_COMMAND_EXECUTION_STATUS, Sizeof.cl_int, Pointer.to(value), null));
        return value.getInt(0);
    }

    /** Waits for every non-null event of {@code events}; a failed command's error is thrown for {@code operation}. */
    static void awaitAll(String operation, cl_event... events) {
        for (cl_event event : waitList(events)) {
            int status = await(event);
            if (status < 0) {
                throw new OpenClException(operation, status, CL.stringFor_errorCode(status), null);
            }
        }
    }

    /** Takes one more reference to {@code event} (each holder releases its own). */
    public static cl_event retain(cl_event event) {
        Cl.run("clRetainEvent", () -> CL.clRetainEvent(event));
        return event;
    }

    /** Releases one reference to {@code event}; null is ignored. */
    public static void release(cl_event event) {
        if (event != null) {
            Cl.run("clReleaseEvent", () -> CL.clReleaseEvent(event));
        }
    }

    /** Releases each non-null event of {@code events}. */
    public static void releaseAll(cl_event... events) {
        for (cl_event event : events) {
            release(event);
        }
    }
}
