package org.convcl.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.convcl.ConvGeometry;
import org.convcl.DType;
import org.convcl.HalfFloats;
import org.convcl.Tensor;
import org.convcl.opencl.internal.plan.ForwardVariants;
import org.convcl.testing.GoldenCase;
import org.convcl.testing.HalfBound;
import org.convcl.testing.NaiveConv;
import org.convcl.testing.OpenClBackendPerClass;
import org.convcl.testing.Reference;
import org.convcl.testing.Tolerance;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The forward convolution on float16 and bfloat16 device tensors (issue 26), on a subset of the golden cases:
 * input, kernel and bias are rounded to the type (HalfFloats), uploaded as bits, convolved by the device with
 * float32 accumulation, and the output, stored in the type, is downloaded as bits.
 *
 * <p>The reference is float64 ({@link NaiveConv}) on the rounded operands, so only the device's own arithmetic
 * is judged, within {@link HalfBound}'s bound.
 *
 * <p>The cases are chosen to reach each forward kernel (the GEMM, its phased form for input dilation and its
 * pointwise form, the depthwise kernel with one and several outputs per channel, the general kernel of rank 4;
 * each case checks that its default plan is of the kernel named) and each padding mode (SAME, VALID, CIRCULAR,
 * REFLECT, CAUSAL, explicit and negative pairs) and several batch dims: a deterministic subset, since every golden
 * case on PoCL would compile a program per case and type (about a second each), more than the suite's time allows.
 */
class HalfForwardOpenClTest {
    @RegisterExtension
    static final OpenClBackendPerClass OPENCL = new OpenClBackendPerClass();

    private static final List<DType> BOTH = List.of(DType.FLOAT16, DType.BFLOAT16);
    private static final List<DType> FLOAT16 = List.of(DType.FLOAT16);

    /**
     * A golden case, the forward kernel its default plan runs (a ForwardVariant name) and the types it runs in. Both
     * types share every line of the kernels but storage.cl's loads and stores, so bfloat16 takes one case per load
     * and store form (phased, pointwise vector loads, grouped, depthwise, general) and float16 every case.
     */
    private record Chosen(String name, String kernel, List<DType> dtypes) {
    }

    private static final List<Chosen> CASES = List.of(
            new Chosen("seed_same_2d_two_batch_dims", "gemm", FLOAT16),
            new Chosen("seed_valid_1d", "gemm", FLOAT16),
            new Chosen("seed_input_dilation_1d", "gemm", BOTH),
            new Chosen("seed_circular_2d", "gemm", FLOAT16),
            new Chosen("seed_reflect_2d", "gemm", FLOAT16),
            new Chosen("causal_1d_dilated", "gemm", FLOAT16),
            new Chosen("negative_padding_crops", "gemm", FLOAT16),
            new Chosen("pointwise_1x1", "gemm", BOTH),
            new Chosen("groups_2_multiplier", "gemm", BOTH),
            new Chosen("depthwise_groups", "depthwise", BOTH),
            new Chosen("seed_4_spatial_dims", "general", BOTH));

    static Stream<Arguments> cases() {
        List<Arguments> cases = new ArrayList<>();
        for (Chosen chosen : CASES) {
            GoldenCase c = GoldenCase.ofOp("conv").stream().filter(g -> g.name().equals(chosen.name())
                    && g.error() == null).findFirst().orElseThrow(() -> new AssertionError(chosen.name()
                    + " is no computed golden conv case"));
            for (DType dtype : chosen.dtypes()) {
                cases.add(Arguments.of(c, dtype, chosen.kernel()));
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} in {1} ({2})")
    @MethodSource("cases")
    void matchesFloat64OnTheRoundedOperands(GoldenCase c, DType dtype, String kernel) {
        OpenClBackend backend = OPENCL.backend();
        Tensor x = HalfBound.rounded(c.array("x"), dtype);
        Tensor w = HalfBound.rounded(c.array("kernel"), dtype);
        Tensor b = c.has("bias") ? HalfBound.rounded(c.array("bias"), dtype) : null;
        ConvGeometry g = c.spec().resolve(x.shape(), w.shape());
        assertEquals(kernel, ForwardVariants.of(backend.plan(g.withStorage(dtype), b != null).config()).name(),
                "the kernel this case is chosen to reach");

        short[] got;
        try (DeviceTensor input = DeviceTensor.upload(backend, HalfFloats.encode(dtype, x.data()), dtype, x.shape());
                DeviceTensor weights = DeviceTensor.upload(backend, HalfFloats.encode(dtype, w.data()), dtype,
                        w.shape());
                DeviceTensor bias = b == null ? null
                        : DeviceTensor.upload(backend, HalfFloats.encode(dtype, b.data()), dtype, b.shape());
                DeviceTensor output = DeviceTensor.allocate(backend, dtype, g.outputShape())) {
            backend.forward(g, input, weights, bias, output);
            assertEquals(dtype, output.dtype());
            got = output.downloadBits();
        }

        NaiveConv.Result reference = Reference.forward(Tolerance.toDouble(x.data()), x.shape(),
                Tolerance.toDouble(w.data()), w.shape(), b == null ? null : Tolerance.toDouble(b.data()), c.strides(),
                c.inputDilation(), c.kernelDilation(), c.libraryPadding(), c.groups());
        assertArrayEquals(reference.shape(), g.outputShape(), c.name());
        int products = w.size() / w.shape()[w.rank() - 1];
        HalfBound.assertWithin(c.name(), dtype, products, reference, HalfFloats.decode(dtype, got));
    }
}
