package org.convcl.opencl.internal.runtime;

import java.util.Locale;
import org.convcl.opencl.device.OpenClDevice;

/**
 * Whether host-array transfers go through pinned staging memory. Across a link (a discrete GPU) they should: only
 * pinned memory moves at the link's speed and asynchronously, so that transfers overlap the kernels. A CPU device
 * (PoCL) computes in host memory itself: staging there only adds a copy, and its "transfers" run on the same cores
 * as its kernels, so nothing overlaps; a direct copy between the Java array and the buffer is the fastest there.
 *
 * <p>Setting {@code convcl.opencl.pinnedStaging}: {@code auto} (default: staged unless the device is a CPU),
 * {@code true} or {@code false}, read when a backend is created.
 */
public final class StagingPolicy {
    public static final String PROPERTY = "convcl.opencl.pinnedStaging";

    private StagingPolicy() {
    }

    /** Whether {@code device}'s host-array transfers use pinned staging memory. */
    public static boolean staged(OpenClDevice device) {
        String value = System.getProperty(PROPERTY, "auto").trim().toLowerCase(Locale.ROOT);
        switch (value) {
            case "auto":
                return device.type() != OpenClDevice.Type.CPU;
            case "true":
                return true;
            case "false":
                return false;
            default:
                throw new IllegalArgumentException(PROPERTY + ": got '" + value + "'; expected auto, true or false");
        }
    }
}
