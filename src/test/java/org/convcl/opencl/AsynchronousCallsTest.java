package org.convcl.opencl;

import org.convcl.opencl.device.OpenClException;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.SplittableRandom;
import org.convcl.nn.Conv;
import org.convcl.Tensor;
import org.convcl.opencl.internal.runtime.Cl;
import org.convcl.opencl.internal.runtime.ClEvents;
import org.convcl.testing.OpenClTesting;
import org.convcl.testing.RandomTensors;
import org.jocl.CL;
import org.jocl.cl_event;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 12's asynchronous calls: device-tensor calls enqueue and return, a tensor knows the work that writes
 * it, waits are for that work alone, and an error of asynchronous work surfaces on the next wait naming the
 * call. The device is held still with a user event (an event the host completes) that the compute queue must
 * wait for, so "not finished yet" is a state the test controls rather than a race.
 */
class AsynchronousCallsTest {
    private OpenClBackend backend;
    private Conv layer;
    private Tensor x;

    @BeforeEach
    void open() {
        backend = OpenClBackend.create(OpenClTesting.device());
        SplittableRandom random = new SplittableRandom(23);
        x = RandomTensors.uniform(random, 2, 9, 9, 4);
        layer = Conv.builder(RandomTensors.uniform(random, 3, 3, 4, 5)).bias(RandomTensors.uniform(random, 5))
                .backend(backend).build();
    }

    @AfterEach
    void close() {
        layer.close();
        backend.close();
    }

    @Test
    void callsReturnBeforeTheirWorkRunsAndWaitsAreForOneTensorsWork() {
        Tensor expected = layer.apply(x);
        try (DeviceTensor input = backend.upload(x); DeviceTensor first = layer.apply(input).await()) {
            assertTrue(first.isReady());
            cl_event gate = userEvent();
            boolean open = false;
            try {
                backend.context().barrier(gate); // the compute queue stops here until the host opens the gate
                try (DeviceTensor second = layer.apply(input)) {
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
        try (DeviceTensor input = backend.upload(x); DeviceTensor output = layer.apply(input)) {
            backend.finish();
            cl_event failed = userEvent();
            CL.clSetUserEventStatus(failed, CL.CL_OUT_OF_RESOURCES);
            backend.record(output, new Production(failed, () -> "convolution under test"));
            assertTrue(output.isReady(), "a failed command has ended");
            OpenClException awaited = assertThrows(OpenClException.class, output::await);
            assertTrue(awaited.getMessage().startsWith("the asynchronous work of convolution under test (writing "
                    + output + ") failed: CL_OUT_OF_RESOURCES"), awaited.getMessage());
            assertThrows(OpenClException.class, output::await, "the failure stays with the tensor");
            OpenClException downloaded = assertThrows(OpenClException.class, output::download);
            assertTrue(downloaded.getMessage().contains("convolution under test"), downloaded.getMessage());
            OpenClException finished = assertThrows(OpenClException.class, backend::finish);
            assertTrue(finished.getMessage().contains("convolution under test"), finished.getMessage());
            backend.finish(); // reported once; the device itself is fine
            try (DeviceTensor again = layer.apply(input)) {
                assertArrayEquals(layer.apply(x).data(), again.download().data(), "later calls work");
            }
        }
    }

    private cl_event userEvent() {
        return Cl.call("clCreateUserEvent", () -> CL.clCreateUserEvent(backend.context().handle(), null));
    }
}
