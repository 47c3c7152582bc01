package org.convcl.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.convcl.Activation;
import org.convcl.ConvGeometry;
import org.convcl.DType;
import org.convcl.Epilogue;
import org.convcl.HalfFloats;
import org.convcl.Tensor;
import org.convcl.opencl.internal.plan.ForwardVariants;
import org.convcl.testing.GoldenCase;
import org.convcl.testing.HalfBound;
import org.convcl.testing.NaiveConv;
import org.convcl.testing.NaiveEpilogue;
import org.convcl.testing.OpenClBackendPerClass;
import org.convcl.testing.RandomTensors;
import org.convcl.testing.Reference;
import org.convcl.testing.Tolerance;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The epilogue on float16 and bfloat16 device tensors (issue 26): the residual, the output and the gradient's
 * element-wise tensors in the type, scale and shift float32. The fused store of each forward kernel (the GEMM's,
 * the depthwise kernel's vector form, the general kernel's), the unfused pass and the epilogue's backward, each
 * against float64 on the rounded operands within {@link HalfBound}'s bound: the convolution's K products plus one
 * float32 rounding per epilogue operation (scale, shift, residual, activation), of terms whose magnitudes sum to
 * {@code |scale| * S + |shift| + |residual|}; relu and leaky_relu, whose slopes are at most 1, pass errors on
 * without growing them.
 */
class HalfEpilogueOpenClTest {
    @RegisterExtension
    static final OpenClBackendPerClass OPENCL = new OpenClBackendPerClass();

    /** The float32 operations an epilogue adds to a value: scale, shift, residual and the activation. */
    private static final int EPILOGUE_OPERATIONS = 4;

    static Stream<Arguments> fused() {
        return Stream.of(
                Arguments.of("pointwise_1x1", DType.FLOAT16, Activation.relu(), "gemm"),
                Arguments.of("seed_same_2d_two_batch_dims", DType.BFLOAT16, Activation.leakyRelu(0.125f), "gemm"),
                Arguments.of("depthwise_groups", DType.FLOAT16, Activation.leakyRelu(0.125f), "depthwise"),
                Arguments.of("depthwise_groups", DType.BFLOAT16, Activation.relu(), "depthwise"),
                Arguments.of("seed_4_spatial_dims", DType.FLOAT16, Activation.relu(), "general"));
    }

    /** {@code kernel}: the forward kernel (a ForwardVariant name) whose fused store the case is chosen to reach. */
    @ParameterizedTest(name = "{0} in {1} with {2} ({3})")
    @MethodSource("fused")
    void theFusedStoreMatchesFloat64OnTheRoundedOperands(String name, DType dtype, Activation activation,
            String kernel) {
        GoldenCase c = GoldenCase.ofOp("conv").stream().filter(g -> g.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError(name + " is no golden conv case"));
        Tensor x = HalfBound.rounded(c.array("x"), dtype);
        Tensor w = HalfBound.rounded(c.array("kernel"), dtype);
        Tensor b = c.has("bias") ? HalfBound.rounded(c.array("bias"), dtype) : null;
        ConvGeometry g = c.spec().resolve(x.shape(), w.shape());
        SplittableRandom random = new SplittableRandom(name.hashCode());
        Tensor scale = RandomTensors.uniform(random, g.outChannels());
        Tensor shift = RandomTensors.uniform(random, g.outChannels());
        Tensor residual = HalfBound.rounded(RandomTensors.uniform(random, g.outputShape()), dtype);
        OpenClBackend backend = OPENCL.backend();
        assertEquals(kernel, ForwardVariants.of(backend.plan(g.withStorage(dtype), b != null).config()).name(),
                "the kernel this case is chosen to reach");

        short[] got;
        try (DeviceTensor input = upload(backend, x, dtype); DeviceTensor weights = upload(backend, w, dtype);
                DeviceTensor bias = b == null ? null : upload(backend, b, dtype);
                DeviceTensor scales = backend.upload(scale); DeviceTensor shifts = backend.upload(shift);
                DeviceTensor residuals = upload(backend, residual, dtype);
                DeviceTensor output = DeviceTensor.allocate(backend, dtype, g.outputShape())) {
            backend.forward(g, input, weights, bias, new Epilogue<>(activation, scales, shifts, residuals), output);
            got = output.downloadBits();
        }

        NaiveConv.Result conv = Reference.forward(Tolerance.toDouble(x.data()), x.shape(),
                Tolerance.toDouble(w.data()), w.shape(), b == null ? null : Tolerance.toDouble(b.data()), c.strides(),
                c.inputDilation(), c.kernelDilation(), c.libraryPadding(), c.groups());
        double[] expected = NaiveEpilogue.apply(activation, conv.values(), g.outChannels(), scale.data(),
                shift.data(), residual.data(), null);
        double[] magnitudes = new double[expected.length];
        for (int i = 0; i < magnitudes.length; i++) {
            int channel = i % g.outChannels();
            magnitudes[i] = Math.abs(scale.data()[channel]) * conv.absSums()[i] + Math.abs(shift.data()[channel])
                    + Math.abs(residual.data()[i]);
        }
        int products = w.size() / w.shape()[w.rank() - 1];
        HalfBound.assertWithin(name + " with " + activation, dtype, products + EPILOGUE_OPERATIONS, false, expected,
                magnitudes, HalfFloats.decode(dtype, got));
    }

    static Stream<Arguments> elementWise() {
        return Stream.of(Arguments.of(DType.FLOAT16, Activation.relu()),
                Arguments.of(DType.BFLOAT16, Activation.leakyRelu(0.125f)));
    }

    @ParameterizedTest(name = "{0} with {1}")
    @MethodSource("elementWise")
    void thePassMatchesFloat64OnTheRoundedOperands(DType dtype, Activation activation) {
        int channels = 5;
        int[] shape = {3, 4, channels};
        SplittableRandom random = new SplittableRandom(dtype.ordinal());
        Tensor values = HalfBound.rounded(RandomTensors.uniform(random, shape), dtype);
        Tensor scale = RandomTensors.uniform(random, channels);
        Tensor shift = RandomTensors.uniform(random, channels);
        Tensor residual = HalfBound.rounded(RandomTensors.uniform(random, shape), dtype);
        OpenClBackend backend = OPENCL.backend();

        short[] got;
        try (DeviceTensor output = upload(backend, values, dtype); DeviceTensor scales = backend.upload(scale);
                DeviceTensor shifts = backend.upload(shift);
                DeviceTensor residuals = upload(backend, residual, dtype)) {
            backend.epiloguePass(new Epilogue<>(activation, scales, shifts, residuals), channels, output);
            got = output.downloadBits();
        }

        double[] expected = NaiveEpilogue.apply(activation, Tolerance.toDouble(values.data()), channels,
                scale.data(), shift.data(), residual.data(), null);
        double[] magnitudes = new double[expected.length];
        for (int i = 0; i < magnitudes.length; i++) {
            magnitudes[i] = Math.abs(values.data()[i] * (double) scale.data()[i % channels])
                    + Math.abs(shift.data()[i % channels]) + Math.abs(residual.data()[i]);
        }
        HalfBound.assertWithin("epilogue pass with " + activation, dtype, EPILOGUE_OPERATIONS, false, expected,
                magnitudes, HalfFloats.decode(dtype, got));
    }

    /**
     * dz = dy * act'(z), dzConv = dz * conv and dconv = dz * scale, each rounded once to the type from float32. The
     * derivative is taken at the float32 z the kernel forms (Activation.derivative on the same float operations), so
     * that a z next to a kink is judged on its own side; the products are then one or two float32 roundings.
     */
    @ParameterizedTest(name = "{0} with {1}")
    @MethodSource("elementWise")
    void theGradientMatchesFloat64OnTheRoundedOperands(DType dtype, Activation activation) {
        int channels = 3;
        int[] shape = {2, 5, channels};
        SplittableRandom random = new SplittableRandom(31 + dtype.ordinal());
        Tensor conv = HalfBound.rounded(RandomTensors.uniform(random, shape), dtype);
        Tensor dy = HalfBound.rounded(RandomTensors.uniform(random, shape), dtype);
        Tensor residual = HalfBound.rounded(RandomTensors.uniform(random, shape), dtype);
        Tensor scale = RandomTensors.uniform(random, channels);
        Tensor shift = RandomTensors.uniform(random, channels);
        OpenClBackend backend = OPENCL.backend();

        short[] dz;
        short[] dzConv;
        short[] dconv;
        try (DeviceTensor convs = upload(backend, conv, dtype); DeviceTensor dys = upload(backend, dy, dtype);
                DeviceTensor residuals = upload(backend, residual, dtype); DeviceTensor scales = backend.upload(scale);
                DeviceTensor shifts = backend.upload(shift);
                DeviceTensor gz = DeviceTensor.allocate(backend, dtype, shape);
                DeviceTensor gzConv = DeviceTensor.allocate(backend, dtype, shape);
                DeviceTensor gconv = DeviceTensor.allocate(backend, dtype, shape)) {
            backend.epilogueGradient(new Epilogue<>(activation, scales, shifts, residuals), channels, convs, dys, gz,
                    gzConv, gconv);
            dz = gz.downloadBits();
            dzConv = gzConv.downloadBits();
            dconv = gconv.downloadBits();
        }

        int length = conv.size();
        double[][] expected = new double[3][length];
        double[][] magnitudes = new double[3][length];
        for (int i = 0; i < length; i++) {
            int c = i % channels;
            float z = conv.data()[i] * scale.data()[c];
            z = z + shift.data()[c];
            z = z + residual.data()[i];
            double d = dy.data()[i] * (double) activation.derivative(z);
            expected[0][i] = d;
            expected[1][i] = d * conv.data()[i];
            expected[2][i] = d * scale.data()[c];
            for (int k = 0; k < 3; k++) {
                magnitudes[k][i] = Math.abs(expected[k][i]);
            }
        }
        String what = "epilogue gradient with " + activation;
        // dz: the product dy * act'; dzConv and dconv: that product times one more factor.
        HalfBound.assertWithin(what + ": dz", dtype, 1, false, expected[0], magnitudes[0],
                HalfFloats.decode(dtype, dz));
        HalfBound.assertWithin(what + ": dzConv", dtype, 2, false, expected[1], magnitudes[1],
                HalfFloats.decode(dtype, dzConv));
        HalfBound.assertWithin(what + ": dconv", dtype, 2, false, expected[2], magnitudes[2],
                HalfFloats.decode(dtype, dconv));
    }

    private static DeviceTensor upload(OpenClBackend backend, Tensor values, DType dtype) {
        return DeviceTensor.upload(backend, HalfFloats.encode(dtype, values.data()), dtype, values.shape());
    }
}
