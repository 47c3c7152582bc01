package org.convcl.opencl;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.convcl.DType;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.testing.GoldenCase;
import org.convcl.testing.HalfGolden;
import org.convcl.testing.OpenClBackendPerClass;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The 16-bit host form on both paths (issue 26): the Java path's and the OpenCL backend's forward on the same
 * float16 or bfloat16 bits, each within {@code HalfBound}'s bound of float64 on the rounded operands. Their bits
 * need not agree (each sums its float32 products in its own order, and one rounding apart gives another 16-bit
 * value); how many outputs differ is logged. A few cases: each compiles a program on PoCL.
 */
class HalfForwardJavaVsOpenClTest {
    private static final Logger LOG = LoggerFactory.getLogger(HalfForwardJavaVsOpenClTest.class);

    @RegisterExtension
    static final OpenClBackendPerClass OPENCL = new OpenClBackendPerClass();

    private static final List<String> NAMES = List.of("seed_same_2d_two_batch_dims", "depthwise_groups",
            "seed_input_dilation_1d");

    static Stream<Arguments> cases() {
        List<Arguments> cases = new ArrayList<>();
        for (String name : NAMES) {
            GoldenCase c = GoldenCase.ofOp("conv").stream().filter(g -> g.name().equals(name) && g.error() == null)
                    .findFirst().orElseThrow(() -> new AssertionError(name + " is no computed golden conv case"));
            cases.add(Arguments.of(c, DType.FLOAT16));
            cases.add(Arguments.of(c, DType.BFLOAT16));
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} in {1}")
    @MethodSource("cases")
    void bothPathsWithinTheBound(GoldenCase c, DType dtype) {
        HalfGolden half = HalfGolden.of(c, dtype);
        short[] java = half.outputBits();
        CpuBackend.instance().forward(half.geometry(), dtype, half.inputBits(), half.kernelBits(), half.biasBits(),
                java);
        short[] device = half.outputBits();
        OPENCL.backend().forward(half.geometry(), dtype, half.inputBits(), half.kernelBits(), half.biasBits(),
                device);
        half.assertWithinBound("java path", java);
        half.assertWithinBound("opencl", device);
        int differing = 0;
        for (int i = 0; i < java.length; i++) {
            differing += java[i] != device[i] ? 1 : 0;
        }
        LOG.info("{} in {}: {} of {} outputs differ in their bits between the Java path and OpenCL", c.name(),
                dtype.cliName(), differing, java.length);
    }
}
