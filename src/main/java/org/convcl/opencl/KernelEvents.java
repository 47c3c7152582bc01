package org.convcl.opencl;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_event;

/**
 * Device time of the kernels one piece of code launches, from OpenCL's profiling events: what the device
 * itself spent between each kernel's start and end, without the host's enqueue, wait and wake-up costs.
 *
 * <p>Recording is per thread: while {@link #deviceMillis} runs its action, every kernel launched by that thread
 * on any backend asks for an event; afterwards the events are waited for, their START→END intervals summed and
 * the events released. Launches from other threads, or outside a recording, ask for no event and cost nothing
 * extra.
 */
public final class KernelEvents {
    private static final ThreadLocal<List<cl_event>> RECORDING = new ThreadLocal<>();

    private KernelEvents() {
    }

    /** Runs {@code action} and returns the summed device time, in milliseconds, of the kernels it launched. */
    public static double deviceMillis(Runnable action) {
        if (RECORDING.get() != null) {
            throw new IllegalStateException("KernelEvents.deviceMillis: already recording on this thread");
        }
        List<cl_event> events = new ArrayList<>();
        RECORDING.set(events);
        try {
            action.run();
        } finally {
            RECORDING.remove();
        }
        try {
            if (!events.isEmpty()) {
                Cl.run("clWaitForEvents", () -> CL.clWaitForEvents(events.size(), events.toArray(new cl_event[0])));
            }
            long nanos = 0;
            for (cl_event event : events) {
                nanos += profile(event, CL.CL_PROFILING_COMMAND_END) - profile(event, CL.CL_PROFILING_COMMAND_START);
            }
            return nanos / 1e6;
        } finally {
            for (cl_event event : events) {
                Cl.run("clReleaseEvent", () -> CL.clReleaseEvent(event));
            }
        }
    }

    /** A new event for a launch when this thread is recording, else null (no event asked for). */
    static cl_event eventForLaunch() {
        return RECORDING.get() == null ? null : new cl_event();
    }

    /** Keeps the event a launch filled in, to be timed when the recording ends. */
    static void launched(cl_event event) {
        List<cl_event> events = RECORDING.get();
        if (event != null && events != null) {
            events.add(event);
        }
    }

    private static long profile(cl_event event, int what) {
        ByteBuffer value = Cl.direct(Sizeof.cl_ulong);
        Cl.run("clGetEventProfilingInfo", () -> CL.clGetEventProfilingInfo(event, what, Sizeof.cl_ulong,
                Pointer.to(value), null));
        return value.getLong(0);
    }
}
