package org.convcl.opencl;

import java.util.SplittableRandom;
import org.convcl.Tensor;
import org.convcl.nn.Conv;
import org.convcl.opencl.internal.runtime.Cl;
import org.convcl.testing.OpenClTesting;
import org.convcl.testing.RandomTensors;
import org.jocl.CL;
import org.jocl.cl_event;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * For tests that hold the device still: a fresh backend per test, one small conv layer on it and an input for
 * it, and user events (events the host completes) that a test puts in the compute queue as a gate, so "the work
 * has not finished yet" is a state the test controls rather than a race. Register it as
 * {@code @RegisterExtension final GatedLayerFixture gated = new GatedLayerFixture(seed);}.
 */
final class GatedLayerFixture implements BeforeEachCallback, AfterEachCallback {
    private final long seed;
    private OpenClBackend backend;
    private Conv layer;
    private Tensor x;

    /** {@code seed}: the random values of the layer's parameters and of the input. */
    GatedLayerFixture(long seed) {
        this.seed = seed;
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        backend = OpenClBackend.create(OpenClTesting.device());
        SplittableRandom random = new SplittableRandom(seed);
        x = RandomTensors.uniform(random, 2, 9, 9, 4);
        layer = Conv.builder(RandomTensors.uniform(random, 3, 3, 4, 5)).bias(RandomTensors.uniform(random, 5))
                .backend(backend).build();
    }

    @Override
    public void afterEach(ExtensionContext context) {
        if (layer != null) {
            layer.close();
        }
        if (backend != null) {
            backend.close();
        }
    }

    OpenClBackend backend() {
        return backend;
    }

    /** A 3x3 conv from 4 to 5 channels with bias, on {@link #backend()}. */
    Conv layer() {
        return layer;
    }

    /** An input for {@link #layer()}: shape [2, 9, 9, 4]. */
    Tensor x() {
        return x;
    }

    /** A new user event on the backend's context, not yet complete; the caller completes and releases it. */
    cl_event userEvent() {
        return Cl.call("clCreateUserEvent", () -> CL.clCreateUserEvent(backend.context().handle(), null));
    }
}
