package org.convcl.opencl.internal.runtime;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_event;

/**
 * The events of the kernels a piece of code launches, asked for only when someone wants them:
 * <ul>
 *   <li>{@link #deviceMillis}: device time from OpenCL's profiling events, what the device itself spent between
 *       each kernel's start and end, without the host's enqueue, wait and wake-up costs. While its action runs,
 *       every kernel launched by that thread on any backend asks for an event; afterwards the events are waited
 *       for, their START→END intervals summed and the events released.</li>
 *   <li>{@link #lastLaunchOf}: the event of the last kernel an action launched, which completes when the
 *       action's work has (the queue is in order); a device tensor keeps it as the work producing it.</li>
 * </ul>
 * Both are per thread; launches outside them ask for no event and cost nothing extra.
 */
public final class KernelEvents {
    private static final ThreadLocal<List<cl_event>> RECORDING = new ThreadLocal<>();
    private static final ThreadLocal<cl_event[]> LAST = new ThreadLocal<>();

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

    /**
     * Runs {@code action} (which enqueues kernels on one in-order queue) and returns the event of the last kernel
     * it launched, which the caller owns and releases; null when it launched none.
     */
    public static cl_event lastLaunchOf(Runnable action) {
        cl_event[] outer = LAST.get();
        cl_event[] last = new cl_event[1];
        LAST.set(last);
        try {
            action.run();
        } catch (RuntimeException | Error e) {
            ClEvents.release(last[0]);
            throw e;
        } finally {
            LAST.set(outer);
        }
        return last[0];
    }

    /** A new event for a launch when this thread wants launch events, else null (no event asked for). */
    static cl_event eventForLaunch() {
        return RECORDING.get() == null && LAST.get() == null ? null : new cl_event();
    }

    /**
     * Hands the event a launch filled in to whoever asked: a recording keeps it to be timed, a
     * {@link #lastLaunchOf} keeps it in place of the previous launch's; each holds its own reference.
     */
    static void launched(cl_event event) {
        if (event == null) {
            return;
        }
        List<cl_event> events = RECORDING.get();
        cl_event[] last = LAST.get();
        if (last != null) {
            ClEvents.release(last[0]);
            last[0] = event;
            if (events != null) {
                events.add(ClEvents.retain(event));
            }
        } else if (events != null) {
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
