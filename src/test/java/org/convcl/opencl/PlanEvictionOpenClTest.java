package org.convcl.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.convcl.ConvGeometry;
import org.convcl.ConvSpec;
import org.convcl.Tensor;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.internal.Settings;
import org.convcl.opencl.internal.plan.ConvPlan;
import org.convcl.opencl.internal.runtime.NativeResources;
import org.convcl.testing.OpenClTesting;
import org.convcl.testing.RandomTensors;
import org.convcl.testing.Tolerance;
import org.junit.jupiter.api.Test;

/**
 * A backend whose plan cache holds few plans, run over more shapes than that: plans of every kind share the
 * bound, the least recently used are evicted and released, and calls after an eviction build their plans again
 * and give the same bits, which match the Java path.
 */
class PlanEvictionOpenClTest {
    private static final int CAPACITY = 3;
    private static final int SHAPES = 6;

    @Test
    void callsAfterEvictionRebuildTheirPlansAndGiveTheSameResults() {
        NativeResources.Counts start = NativeResources.snapshot();
        OpenClBackend backend = withCapacity(CAPACITY);
        try {
            assertEquals(CAPACITY, backend.plans().capacity(), "the setting sizes the cache");
            SplittableRandom random = new SplittableRandom(5);
            List<Case> cases = new ArrayList<>();
            for (int i = 0; i < SHAPES; i++) {
                cases.add(new Case(random, 4 + i));
            }
            ConvPlan firstPlan = backend.plan(cases.get(0).g, true);
            List<float[]> before = new ArrayList<>();
            for (Case c : cases) {
                before.add(c.forward(backend));
                c.assertKernelGradientMatchesJava(backend);
                assertTrue(backend.plans().size() <= CAPACITY, "plans of every kind share the bound: "
                        + backend.plans().size());
            }
            assertTrue(backend.plans().evictions() >= 2 * SHAPES - CAPACITY, "forward and gradient plans of "
                    + SHAPES + " shapes were evicted: " + backend.plans().evictions());
            assertTrue(firstPlan.isClosed(), "an evicted plan no call uses is released");

            for (int i = 0; i < SHAPES; i++) {
                Case c = cases.get(i);
                float[] again = c.forward(backend);
                assertArrayEquals(before.get(i), again, "shape " + i + ": the rebuilt plan gives the same bits");
                assertTrue(Tolerance.maxRelErr(c.javaForward(), again) < 1e-4, "shape " + i + " matches the Java path");
                c.assertKernelGradientMatchesJava(backend);
            }
            // A plan handed out earlier and evicted since still serves a call: its config is built again.
            Case first = cases.get(0);
            try (DeviceTensor x = backend.upload(first.input); DeviceTensor w = backend.upload(first.kernel);
                    DeviceTensor b = backend.upload(first.bias); DeviceTensor y = backend.allocate(first.g.outputShape())) {
                backend.forward(firstPlan, first.g, x, w, b, y);
                assertArrayEquals(before.get(0), y.download().data(), "the evicted plan's config, rebuilt");
            }
        } finally {
            backend.close();
        }
        assertEquals(start, NativeResources.snapshot(), "evicted and cached plans alike are released");
    }

    private static OpenClBackend withCapacity(int capacity) {
        String property = Settings.OPENCL_PLAN_CACHE_SIZE.property();
        String before = System.getProperty(property);
        System.setProperty(property, Integer.toString(capacity));
        try {
            return OpenClBackend.create(OpenClTesting.device());
        } finally {
            if (before == null) {
                System.clearProperty(property);
            } else {
                System.setProperty(property, before);
            }
        }
    }

    /** One shape (its own spatial size, so its own plans) with random operands. */
    private static final class Case {
        final ConvGeometry g;
        final Tensor input;
        final Tensor kernel;
        final Tensor bias;
        final Tensor outputGradient;

        Case(SplittableRandom random, int size) {
            this.input = RandomTensors.uniform(random, 2, size, size, 3);
            this.kernel = RandomTensors.uniform(random, 3, 3, 3, 4);
            this.bias = RandomTensors.uniform(random, 4);
            this.g = ConvSpec.defaults().resolve(input.shape(), kernel.shape());
            this.outputGradient = RandomTensors.uniform(random, g.outputShape());
        }

        float[] forward(OpenClBackend backend) {
            float[] output = new float[(int) Tensor.elementCount(g.outputShape())];
            backend.forward(g, input.data(), kernel.data(), bias.data(), output);
            return output;
        }

        double[] javaForward() {
            float[] output = new float[(int) Tensor.elementCount(g.outputShape())];
            CpuBackend.sequential().forward(g, input.data(), kernel.data(), bias.data(), output);
            return Tolerance.toDouble(output);
        }

        void assertKernelGradientMatchesJava(OpenClBackend backend) {
            float[] got = new float[kernel.size()];
            backend.kernelGradient(g, input.data(), outputGradient.data(), got);
            float[] expected = new float[kernel.size()];
            CpuBackend.sequential().kernelGradient(g, input.data(), outputGradient.data(), expected);
            assertTrue(Tolerance.maxRelErr(Tolerance.toDouble(expected), got) < 1e-4, g + ": kernel gradient");
        }
    }
}
