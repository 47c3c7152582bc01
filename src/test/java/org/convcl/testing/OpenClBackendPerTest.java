package org.convcl.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.convcl.opencl.OpenClBackend;
import org.convcl.opencl.device.OpenClDevice;
import org.convcl.opencl.internal.runtime.NativeResources;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A fresh OpenCL backend on the test device for each test, closed after it; closing must bring the native
 * object counts back to what they were before the backend was created, so a test that leaks a buffer, kernel or
 * event fails. Register it as
 * {@code @RegisterExtension final OpenClBackendPerTest opencl = new OpenClBackendPerTest();}.
 * A test may close the backend itself (closing twice is allowed). Where no OpenCL device exists it fails or skips
 * as {@link OpenClTesting#device()} says.
 */
public final class OpenClBackendPerTest implements BeforeEachCallback, AfterEachCallback {
    private OpenClBackend backend;
    private NativeResources.Counts start;

    @Override
    public void beforeEach(ExtensionContext context) {
        OpenClDevice device = OpenClTesting.device();
        start = NativeResources.snapshot();
        backend = OpenClBackend.create(device);
    }

    @Override
    public void afterEach(ExtensionContext context) {
        if (backend == null) {
            return;
        }
        backend.close();
        backend = null;
        assertEquals(start, NativeResources.snapshot(), "every native object is released with the backend");
    }

    /** The test's backend; only while a test runs. */
    public OpenClBackend backend() {
        if (backend == null) {
            throw new IllegalStateException("the OpenCL backend is open only while a test runs");
        }
        return backend;
    }
}
