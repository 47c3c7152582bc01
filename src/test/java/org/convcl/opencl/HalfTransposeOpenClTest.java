package org.convcl.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.convcl.Activation;
import org.convcl.ConvTransposeGeometry;
import org.convcl.DType;
import org.convcl.EdgePadding;
import org.convcl.Epilogue;
import org.convcl.HalfFloats;
import org.convcl.Tensor;
import org.convcl.backend.internal.ConvStep;
import org.convcl.testing.ConvTransposeReference;
import org.convcl.testing.GoldenCase;
import org.convcl.testing.HalfBound;
import org.convcl.testing.NaiveConv;
import org.convcl.testing.NaiveEpilogue;
import org.convcl.testing.OpenClBackendPerClass;
import org.convcl.testing.RandomTensors;
import org.convcl.testing.Tolerance;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A transposed convolution on float16 and bfloat16 device tensors (issue 26), as a layer runs it on a device
 * ({@link DeviceConvOps}: the held kernel flipped and swapped on the device when {@code transposeKernel}, a forward
 * convolution with input dilation, and for CIRCULAR the fold's wrap-around sum with the bias), against float64
 * ({@link ConvTransposeReference}) on the rounded operands within {@link HalfBound}'s bound. A few golden cases
 * reach each step: the phased convolution of a strided transpose, and a CIRCULAR one with the kernel flag (flip
 * and fold) in both types, whose fold sums 16-bit intermediates; and an epilogue fused in the fold's store.
 */
class HalfTransposeOpenClTest {
    @RegisterExtension
    static final OpenClBackendPerClass OPENCL = new OpenClBackendPerClass();

    /** The float32 operations an epilogue adds to a value: scale, shift, residual and the activation. */
    private static final int EPILOGUE_OPERATIONS = 4;

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("transpose_same_stride2_2d", DType.FLOAT16),
                Arguments.of("transpose_dilated_explicit", DType.BFLOAT16),
                Arguments.of("transpose_kernel_flag", DType.FLOAT16),
                Arguments.of("transpose_kernel_flag", DType.BFLOAT16),
                Arguments.of("random_transpose_00_1d", DType.FLOAT16));
    }

    @ParameterizedTest(name = "{0} in {1}")
    @MethodSource("cases")
    void matchesFloat64OnTheRoundedOperands(String name, DType dtype) {
        GoldenCase c = GoldenCase.ofOp("conv_transpose").stream().filter(g -> g.name().equals(name))
                .findFirst().orElseThrow(() -> new AssertionError(name + " is no golden conv_transpose case"));
        assertWithinTheBound(c, dtype, OPENCL.backend());
    }

    /**
     * Golden transpose {@code c} in {@code dtype} on {@code backend}'s device, as a layer runs it, within
     * {@link HalfBound}'s bound of float64 on the rounded operands (also run on every case by
     * HalfGoldenExhaustiveOpenClTest).
     */
    static void assertWithinTheBound(GoldenCase c, DType dtype, OpenClBackend backend) {
        String name = c.name();
        Tensor x = HalfBound.rounded(c.array("x"), dtype);
        Tensor w = HalfBound.rounded(c.array("kernel"), dtype);
        Tensor b = c.has("bias") ? HalfBound.rounded(c.array("bias"), dtype) : null;
        ConvTransposeGeometry tg = ConvTransposeReference.spec(c).resolve(x.shape(), w.shape());
        ConvStep step = new ConvStep(tg.conv(), tg.circularFold(), tg.transposeKernel(), tg.outputShape());
        DeviceConvOps ops = new DeviceConvOps(backend);

        short[] got;
        try (DeviceTensor input = upload(backend, x, dtype); DeviceTensor held = upload(backend, w, dtype);
                DeviceTensor bias = b == null ? null : upload(backend, b, dtype);
                DeviceTensor output = DeviceTensor.allocate(backend, dtype, tg.outputShape())) {
            // flipSwap with one group is its own inverse: the held kernel's is what the convolution multiplies by.
            DeviceTensor kernel = tg.transposeKernel() ? ops.flipSwapped(held, held.shape(), 1) : held;
            try {
                ops.forward(step, input, kernel, bias, output);
                got = output.downloadBits();
            } finally {
                if (kernel != held) {
                    kernel.close();
                }
            }
            assertEquals(dtype, output.dtype());
        }

        NaiveConv.Result reference = ConvTransposeReference.of(c).forward(Tolerance.toDouble(x.data()),
                Tolerance.toDouble(w.data()), b == null ? null : Tolerance.toDouble(b.data()));
        assertArrayEquals(reference.shape(), tg.outputShape(), name);
        EdgePadding fold = tg.circularFold();
        HalfBound.assertWithin(name, dtype, ConvTransposeReference.productsPerOutput(tg), fold != null, reference.values(), reference.absSums(),
                HalfFloats.decode(dtype, got));
    }

    /**
     * A CIRCULAR transpose with an epilogue, fused in the fold's store (float32 scale and shift, a 16-bit residual):
     * the fold's sum of 16-bit intermediates, then one float32 rounding per epilogue operation, over magnitudes
     * {@code |scale| * S + |shift| + |residual|}.
     */
    @ParameterizedTest(name = "{0} in {1}")
    @MethodSource("folded")
    void theFoldsFusedEpilogueMatchesFloat64OnTheRoundedOperands(String name, DType dtype) {
        GoldenCase c = GoldenCase.ofOp("conv_transpose").stream().filter(g -> g.name().equals(name))
                .findFirst().orElseThrow(() -> new AssertionError(name + " is no golden conv_transpose case"));
        Tensor x = HalfBound.rounded(c.array("x"), dtype);
        Tensor w = HalfBound.rounded(c.array("kernel"), dtype);
        ConvTransposeGeometry tg = ConvTransposeReference.spec(c).resolve(x.shape(), w.shape());
        assertNotNull(tg.circularFold(), name + " is a CIRCULAR transpose, whose fold stores the output");
        ConvStep step = new ConvStep(tg.conv(), tg.circularFold(), tg.transposeKernel(), tg.outputShape());
        int channels = tg.conv().outChannels();
        SplittableRandom random = new SplittableRandom(name.hashCode());
        Tensor scale = RandomTensors.uniform(random, channels);
        Tensor shift = RandomTensors.uniform(random, channels);
        Tensor residual = HalfBound.rounded(RandomTensors.uniform(random, tg.outputShape()), dtype);
        Activation activation = Activation.leakyRelu(0.25f);
        OpenClBackend backend = OPENCL.backend();
        DeviceConvOps ops = new DeviceConvOps(backend);

        short[] got;
        try (DeviceTensor input = upload(backend, x, dtype); DeviceTensor held = upload(backend, w, dtype);
                DeviceTensor scales = backend.upload(scale); DeviceTensor shifts = backend.upload(shift);
                DeviceTensor residuals = upload(backend, residual, dtype);
                DeviceTensor output = DeviceTensor.allocate(backend, dtype, tg.outputShape())) {
            DeviceTensor kernel = tg.transposeKernel() ? ops.flipSwapped(held, held.shape(), 1) : held;
            try {
                ops.forward(step, input, kernel, null, new Epilogue<>(activation, scales, shifts, residuals), output);
                got = output.downloadBits();
            } finally {
                if (kernel != held) {
                    kernel.close();
                }
            }
        }

        NaiveConv.Result conv = ConvTransposeReference.of(c).forward(Tolerance.toDouble(x.data()),
                Tolerance.toDouble(w.data()), null);
        double[] expected = NaiveEpilogue.apply(activation, conv.values(), channels, scale.data(), shift.data(),
                residual.data(), null);
        double[] magnitudes = new double[expected.length];
        for (int i = 0; i < magnitudes.length; i++) {
            magnitudes[i] = Math.abs(scale.data()[i % channels]) * conv.absSums()[i]
                    + Math.abs(shift.data()[i % channels]) + Math.abs(residual.data()[i]);
        }
        HalfBound.assertWithin(name + " with " + activation, dtype, ConvTransposeReference.productsPerOutput(tg) + EPILOGUE_OPERATIONS, true,
                expected, magnitudes, HalfFloats.decode(dtype, got));
    }

    static Stream<Arguments> folded() {
        return Stream.of(Arguments.of("random_transpose_03_2d", DType.FLOAT16),
                Arguments.of("transpose_kernel_flag", DType.BFLOAT16));
    }

    static DeviceTensor upload(OpenClBackend backend, Tensor values, DType dtype) {
        return DeviceTensor.upload(backend, HalfFloats.encode(dtype, values.data()), dtype, values.shape());
    }
}
