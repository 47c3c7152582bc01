package org.convcl.opencl;

import org.convcl.opencl.device.OpenClDevice;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.convcl.ConvGeometry;
import org.convcl.ConvSpec;
import org.convcl.bench.BenchShape;
import org.convcl.bench.BenchSuite;
import org.convcl.opencl.internal.plan.ConvPlan;
import org.convcl.opencl.internal.plan.KernelConfig;
import org.convcl.opencl.internal.tuning.DefaultConfigs;
import org.convcl.testing.CiShare;
import org.convcl.testing.OpenClBackendPerClass;
import org.convcl.testing.PlanCheck;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The configs a GPU gets before anyone has tuned it, computed on PoCL. On a GPU the untuned default is what
 * the first run of every benchmark shape uses, and no GPU is at hand where the tests run, so this test asks
 * {@link DefaultConfigs} what an NVIDIA H100 (and a small GPU that forces the shrinking rules) would get for
 * each shape of the benchmark suite at its GPU batch, then runs exactly that config on the test device over
 * a smaller instance of the same layer (same channels, kernel, strides, dilations, padding and groups; fewer
 * pixels and a batch of 2, sizes chosen to leave partial tiles) against the float64 reference. A wrong
 * default for a GPU would otherwise surface only on the GPU.
 */
class GpuDefaultsOpenClTest {
    @RegisterExtension
    static final OpenClBackendPerClass OPENCL = new OpenClBackendPerClass();

    /** A GPU as its driver describes it: only the properties the defaults depend on are meaningful. */
    private static OpenClDevice gpu(String name, String vendor, long maxWorkGroupSize, long localMemoryBytes) {
        return new OpenClDevice(0, 0, vendor + " OpenCL", "OpenCL 3.0", name, vendor, OpenClDevice.Type.GPU, 132,
                1755, 80L << 30, localMemoryBytes, 20L << 30, maxWorkGroupSize, "OpenCL 3.0", "OpenCL C 1.2",
                "test", List.of(), null, null);
    }

    record Case(String shape, String device, KernelConfig config, int[] xShape, int[] wShape, ConvSpec spec) {
        @Override
        public String toString() {
            return shape + " as on " + device + ": " + config + " on x" + Arrays.toString(xShape);
        }
    }

    /** Half the cases in the default run, the other half under the exhaustive run ({@link CiShare}). */
    static Stream<Case> cases() throws IOException {
        return CiShare.defaultRun(allCases().toList(), 2);
    }

    static Stream<Case> otherCases() throws IOException {
        return CiShare.exhaustiveRun(allCases().toList(), 2);
    }

    private static Stream<Case> allCases() throws IOException {
        // H100 (CL_DEVICE_MAX_WORK_GROUP_SIZE 1024, 48 KiB local memory), and a GPU small enough that the
        // default tiles must shrink to fit its work-group and local-memory limits.
        OpenClDevice[] devices = {gpu("NVIDIA H100 80GB HBM3", "NVIDIA Corporation", 1024, 48 << 10),
            gpu("Small GPU", "Example GPU Vendor", 128, 16 << 10)};
        List<Case> cases = new ArrayList<>();
        for (BenchShape shape : BenchSuite.loadDefault().shapes()) {
            ConvGeometry full = shape.spec().resolve(shape.inputShape(shape.batchGpu()), shape.kernelShape());
            int[] xShape = shape.inputShape(2);
            for (int d = 0; d < shape.spatial().length; d++) {
                xShape[1 + d] = smallerExtent(shape, d);
            }
            for (OpenClDevice device : devices) {
                cases.add(new Case(shape.name(), device.name(), DefaultConfigs.untuned(full, device), xShape,
                        shape.kernelShape(), shape.spec()));
            }
        }
        return cases.stream();
    }

    /** An odd extent that leaves partial tiles, small enough for the float64 reference, never below the window. */
    private static int smallerExtent(BenchShape shape, int d) {
        int window = (shape.kernel()[d] - 1) * shape.kernelDilation()[d] + 1;
        int target = switch (shape.spatial().length) {
            case 1 -> 613;
            case 2 -> 23;
            default -> 9;
        };
        return Math.min(shape.spatial()[d], Math.max(target, window + 2));
    }

    @Tag("exhaustive")
    @ParameterizedTest(name = "{0}")
    @MethodSource("otherCases")
    void untunedGpuConfigComputesTheOtherShapes(Case c) {
        untunedGpuConfigComputesTheShape(c);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void untunedGpuConfigComputesTheShape(Case c) {
        ConvGeometry g = c.spec().resolve(c.xShape(), c.wShape());
        if (c.shape().startsWith("depthwise")) {
            assertInstanceOf(KernelConfig.Depthwise.class, c.config(), "depthwise shapes get the depthwise kernel");
        } else {
            assertInstanceOf(KernelConfig.Gemm.class, c.config(), "dense shapes get the implicit GEMM");
        }
        ConvPlan plan = PlanCheck.assertMatchesReference(c.toString(), OPENCL.backend(), c.spec(), c.xShape(),
                c.wShape(), c.config(), c.toString().hashCode());
        assertEquals(c.config().getClass(), plan.config().getClass(), "the plan runs the kernel it was given");
    }
}
