package org.convcl.testing;

import org.convcl.opencl.OpenClBackend;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One OpenCL backend on the test device for a whole test class, opened before its first test and closed
 * (with every native object it owns) after its last: register it as
 * {@code @RegisterExtension static final OpenClBackendPerClass OPENCL = new OpenClBackendPerClass();}.
 * Where no OpenCL device exists it fails or skips as {@link OpenClTesting#device()} says.
 */
public final class OpenClBackendPerClass implements BeforeAllCallback, AfterAllCallback {
    private OpenClBackend backend;

    @Override
    public void beforeAll(ExtensionContext context) {
        backend = OpenClBackend.create(OpenClTesting.device());
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (backend != null) {
            backend.close();
            backend = null;
        }
    }

    /** The class's backend; only between its first and last test. */
    public OpenClBackend backend() {
        if (backend == null) {
            throw new IllegalStateException("the OpenCL backend is open only while the test class runs");
        }
        return backend;
    }
}
