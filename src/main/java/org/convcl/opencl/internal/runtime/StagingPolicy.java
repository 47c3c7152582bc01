package org.convcl.opencl.internal.runtime;

import org.convcl.internal.Settings;
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
    public static final String PROPERTY = Settings.OPENCL_PINNED_STAGING.property();

    private StagingPolicy() {
    }

    /** Whether {@code device}'s host-array transfers use pinned staging memory. */
    public static boolean staged(OpenClDevice device) {
        return switch (Settings.OPENCL_PINNED_STAGING.get()) {
            case "auto" -> device.type() != OpenClDevice.Type.CPU;
            case "true" -> true;
            default -> false;
        };
    }
}
