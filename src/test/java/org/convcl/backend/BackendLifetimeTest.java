package org.convcl.backend;

import org.convcl.nn.Backends;
import org.convcl.backend.cpu.CpuBackend;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.convcl.nn.Conv;
import org.convcl.ConvSpec;
import org.convcl.Tensor;
import org.convcl.opencl.OpenClBackend;
import org.convcl.testing.NaiveConv;
import org.convcl.testing.OpenClTesting;
import org.convcl.testing.RandomTensors;
import org.convcl.testing.Reference;
import org.convcl.testing.Tolerance;
import org.junit.jupiter.api.Test;

/**
 * Who may close a backend: the shared ones that {@link Backends} hands out refuse {@code close()} and keep
 * working, only {@link Backends#closeShared()} releases them (and the next request makes new ones), and a
 * private {@link OpenClBackend#create} backend closes as its owner says.
 */
class BackendLifetimeTest {
    private static final SplittableRandom RANDOM = new SplittableRandom(11);
    private static final Tensor X = RandomTensors.uniform(RANDOM, 2, 7, 6, 3);
    private static final Tensor KERNEL = RandomTensors.uniform(RANDOM, 3, 3, 3, 5);
    private static final Tensor BIAS = RandomTensors.uniform(RANDOM, 5);
    private static final ConvSpec SPEC = ConvSpec.builder().strides(2).build();

    @Test
    void closingTheSharedOpenClBackendIsRefusedAndLeavesItWorking() {
        OpenClTesting.device();
        OpenClBackend shared = (OpenClBackend) Backends.select(BackendChoice.OPENCL);
        assertTrue(shared.isShared());
        try (Conv layer = layerOn(shared)) {
            IllegalStateException refused = assertThrows(IllegalStateException.class, shared::close);
            String message = refused.getMessage();
            assertTrue(message.contains("JVM-wide shared backend of OpenCL device " + shared.device().describe()),
                    message);
            assertTrue(message.contains("used by every layer that selected it"), message);
            assertTrue(message.contains("released at JVM exit or by Backends.closeShared()"), message);
            assertTrue(message.contains("use OpenClBackend.create(device)"), message);
            // The mistake this guards against: try-with-resources around what Backends returned.
            assertThrows(IllegalStateException.class, () -> {
                try (ConvBackend selected = Backends.select(BackendChoice.OPENCL)) {
                    assertSame(shared, selected);
                }
            });
            assertFalse(shared.isClosed());
            assertSame(shared, Backends.select(BackendChoice.OPENCL), "still the shared one, not replaced");
            assertMatchesReference("a layer on the shared backend after the refused closes", layer.apply(X));
        }
    }

    @Test
    void aPrivateBackendClosesAndThenRefusesUse() {
        OpenClBackend own = OpenClBackend.create(OpenClTesting.device());
        assertFalse(own.isShared());
        Conv layer = layerOn(own);
        assertMatchesReference("a layer on a private backend", layer.apply(X));
        own.close();
        assertTrue(own.isClosed());
        IllegalStateException refused = assertThrows(IllegalStateException.class, () -> layer.apply(X));
        assertTrue(refused.getMessage().contains(own.name() + " has been closed and cannot be used"),
                refused.getMessage());
        assertFalse(refused.getMessage().contains("shared"), "a private backend is not called shared: "
                + refused.getMessage());
        assertThrows(IllegalStateException.class, () -> own.upload(X));
        own.close(); // idempotent
        assertTrue(own.isClosed());
    }

    @Test
    void closeSharedReleasesTheSharedBackendAndTheNextSelectMakesAFreshWorkingOne() {
        OpenClTesting.device();
        OpenClBackend first = (OpenClBackend) Backends.select(BackendChoice.OPENCL);
        Conv stale = layerOn(first);
        assertMatchesReference("a layer on the first shared backend", stale.apply(X));
        Backends.closeShared();
        assertTrue(first.isClosed(), "closeShared releases the shared backend");
        IllegalStateException refused = assertThrows(IllegalStateException.class, () -> stale.apply(X));
        assertTrue(refused.getMessage().contains("released by Backends.closeShared()"), refused.getMessage());

        OpenClBackend second = (OpenClBackend) Backends.select(BackendChoice.OPENCL);
        assertNotSame(first, second);
        assertFalse(second.isClosed());
        assertTrue(second.isShared(), "the replacement is shared too");
        assertSame(second, Backends.openClBackend(second.device()), "and is the one every later request gets");
        assertThrows(IllegalStateException.class, second::close);
        try (Conv layer = layerOn(second)) {
            assertMatchesReference("a layer on the new shared backend", layer.apply(X));
        }
    }

    @Test
    void theJavaPathIsSharedAndRefusesCloseToo() {
        ConvBackend cpu = Backends.select(BackendChoice.CPU);
        assertTrue(cpu.isShared());
        assertTrue(CpuBackend.sequential().isShared());
        IllegalStateException refused = assertThrows(IllegalStateException.class, cpu::close);
        assertTrue(refused.getMessage().startsWith("cpu is the JVM-wide shared Java-path backend"),
                refused.getMessage());
        assertTrue(refused.getMessage().contains("OpenClBackend.create(device)"), refused.getMessage());
        try (Conv layer = layerOn(cpu)) {
            assertMatchesReference("a layer on the Java path after the refused close", layer.apply(X));
        }
    }

    private static Conv layerOn(ConvBackend backend) {
        return Conv.builder(KERNEL).bias(BIAS).spec(SPEC).backend(backend).build();
    }

    private static void assertMatchesReference(String what, Tensor actual) {
        NaiveConv.Result expected = Reference.forward(Tolerance.toDouble(X.data()), X.shape(),
                Tolerance.toDouble(KERNEL.data()), KERNEL.shape(), Tolerance.toDouble(BIAS.data()), SPEC.strides(),
                SPEC.inputDilation(), SPEC.kernelDilation(), SPEC.padding(), SPEC.groups());
        Tolerance.assertClose(what, expected.shape(), expected.values(), expected.absSums(), actual.shape(),
                actual.data());
    }
}
