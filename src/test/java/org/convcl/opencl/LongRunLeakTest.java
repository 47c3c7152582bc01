package org.convcl.opencl;

import org.convcl.opencl.device.OpenClDevice;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.convcl.diagnostics.Soak;
import org.convcl.opencl.internal.runtime.NativeResources;
import org.convcl.opencl.internal.runtime.StagingPolicy;
import org.convcl.testing.OpenClTesting;
import org.junit.jupiter.api.Test;

/**
 * Issue 7's leak check: 20,000 iterations (forward and backward on host arrays, and a chained device-tensor
 * call each) on the OpenCL backend hold no more live objects at the end than after the first thousand, and
 * closing the backend returns the library's live buffers, programs and kernels to where they started.
 * Resident memory is watched by {@code scripts/leak-check}, outside the unit tests, where timing noise of
 * a shared machine does not matter.
 */
class LongRunLeakTest {

    @Test
    void twentyThousandCallsLeaveNothingBehind() {
        OpenClDevice device = OpenClTesting.device();
        NativeResources.Counts start = NativeResources.snapshot();
        Soak.Report report;
        try (OpenClBackend backend = OpenClBackend.create(device)) {
            report = Soak.run(backend, 20_000, 1_000);
        }
        assertTrue(report.countsFlat(), "live objects accumulated: " + report.samples());
        assertEquals(start, NativeResources.snapshot(), "closing the backend releases everything");
    }

    /**
     * The same with host arrays through pinned staging and pipelined chunks, as on a GPU (PoCL, a CPU device,
     * copies directly unless told otherwise): staging buffers, events and chunk buffers come and go every call.
     */
    @Test
    void stagedHostArraysLeaveNothingBehind() {
        OpenClDevice device = OpenClTesting.device();
        NativeResources.Counts start = NativeResources.snapshot();
        Soak.Report report;
        System.setProperty(StagingPolicy.PROPERTY, "true");
        System.setProperty("convcl.opencl.pipelineChunkBytes", "4096"); // several chunks in flight per call
        try (OpenClBackend backend = OpenClBackend.create(device)) {
            report = Soak.run(backend, 5_000, 500);
        } finally {
            System.clearProperty(StagingPolicy.PROPERTY);
            System.clearProperty("convcl.opencl.pipelineChunkBytes");
        }
        assertTrue(report.countsFlat(), "live objects accumulated: " + report.samples());
        assertEquals(start, NativeResources.snapshot(), "closing the backend releases everything");
    }
}
