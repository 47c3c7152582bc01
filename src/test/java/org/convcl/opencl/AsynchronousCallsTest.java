package org.convcl.opencl;

import org.convcl.opencl.device.OpenClException;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.convcl.Tensor;
import org.convcl.opencl.internal.runtime.ClEvents;
import org.jocl.CL;
import org.jocl.cl_event;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 12's asynchronous calls: device-tensor calls enqueue and return, a tensor knows the work that writes
 * it, waits are for that work alone, and an error of asynchronous work surfaces on the next wait naming the
 * call. The device is held still with a user event (an event the host completes) that the compute queue must
 * wait for, so "not finished yet" is a state the test controls rather than a race.
 */
class AsynchronousCallsTest {
    @RegisterExtension
    final GatedLayerFixture gated = new GatedLayerFixture(23);

    @Test
    void callsReturnBeforeTheirWorkRunsAndWaitsAreForOneTensorsWork() {
        Tensor expected = gated.layer().apply(gated.x());
        try (DeviceTensor input = gated.backend().upload(gated.x());
                DeviceTensor first = gated.layer().apply(input).await()) {
            assertTrue(first.isReady());
            cl_event gate = gated.userEvent();
            boolean open = false;
            try {
                gated.backend().context().barrier(gate); // the compute queue stops here until the host opens the gate
                try (DeviceTensor second = gated.layer().apply(input)) {
                    assertFalse(second.isReady(), "the call returned with its work still waiting in the queue");
                    // The first tensor's work is done: its download waits for nothing queued after it.
                    Tensor firstValues = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> first.download());
                    assertArrayEquals(expected.data(), firstValues.data());
                    CL.clSetUserEventStatus(gate, CL.CL_COMPLETE);
                    open = true;
                    assertSame(second, second.await());
                    assertTrue(second.isReady());
                    assertArrayEquals(expected.data(), second.download().data());
                }
            } finally {
                if (!open) {
                    CL.clSetUserEventStatus(gate, CL.CL_COMPLETE);
                }
                ClEvents.release(gate);
            }
        }
    }

    /**
     * OpenCL reports a failed command only through its event. A failed command is simulated with a user event
     * set to an error (PoCL aborts the process when a real command depends on a failed user event, so the
     * failure is recorded as the tensor's producing work directly, as a failed kernel's event would be).
     */
    @Test
    void aFailureOfAsynchronousWorkSurfacesOnTheNextWaitNamingTheCall() {
        try (DeviceTensor input = gated.backend().upload(gated.x()); DeviceTensor output = gated.layer().apply(input)) {
            gated.backend().finish();
            cl_event failed = gated.userEvent();
            CL.clSetUserEventStatus(failed, CL.CL_OUT_OF_RESOURCES);
            gated.backend().record(output, new Production(failed, () -> "convolution under test"));
            assertTrue(output.isReady(), "a failed command has ended");
            OpenClException awaited = assertThrows(OpenClException.class, output::await);
            assertTrue(awaited.getMessage().startsWith("the asynchronous work of convolution under test (writing "
                    + output + ") failed: CL_OUT_OF_RESOURCES"), awaited.getMessage());
            assertThrows(OpenClException.class, output::await, "the failure stays with the tensor");
            OpenClException downloaded = assertThrows(OpenClException.class, output::download);
            assertTrue(downloaded.getMessage().contains("convolution under test"), downloaded.getMessage());
            OpenClException finished = assertThrows(OpenClException.class, gated.backend()::finish);
            assertTrue(finished.getMessage().contains("convolution under test"), finished.getMessage());
            gated.backend().finish(); // reported once; the device itself is fine
            try (DeviceTensor again = gated.layer().apply(input)) {
                assertArrayEquals(gated.layer().apply(gated.x()).data(), again.download().data(), "later calls work");
            }
        }
    }
}
