package org.convcl.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.function.Function;
import org.convcl.Activation;
import org.convcl.Epilogue;
import org.convcl.Tensor;
import org.convcl.backend.internal.HostEpilogue;
import org.convcl.testing.CiShare;
import org.convcl.testing.OpenClBackendPerClass;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.function.Executable;

/**
 * {@link OpenClBackend#epiloguePass} and {@link OpenClBackend#epilogueGradient} against {@link HostEpilogue} on
 * the same float32 data, special values included (0, -0, NaN, infinities, huge and subnormal magnitudes, the
 * activations' breakpoints): every activation with every combination of scale, shift and residual (and the
 * gradient with and without {@code dzConv}), odd sizes, aliased operands, and refused operands.
 *
 * <p>The bound. Where the kernel's operations are all correctly rounded in OpenCL (+, -, *, comparisons, selects:
 * identity, relu, relu6, leaky_relu, and their derivatives), the results must be bit-identical, signed zeros
 * included. The other activations go through OpenCL's exp, expm1, erf and tanh and its division, which OpenCL C
 * lets be off by up to 3, 3, 16, 5 and 2.5 ulps, while Java rounds its double results: there each result must be
 * within {@link #ULPS} float32 ulps of the magnitude of the terms it is formed from (an error in {@code erf(z) + 1}
 * or {@code 1 - tanh^2} is absolute, so a result that cancels to near zero is held to its terms' size, not its
 * own); infinities and NaN must match exactly.
 */
class EpilogueKernelsOpenClTest {
    @RegisterExtension
    static final OpenClBackendPerClass OPENCL = new OpenClBackendPerClass();

    /** erf's 16 ulps, the error of the operations around it and Java's own rounding, with room to spare. */
    static final int ULPS = 32;
    private static final Set<Activation.Kind> EXACT = EnumSet.of(Activation.Kind.IDENTITY, Activation.Kind.RELU,
            Activation.Kind.RELU6, Activation.Kind.LEAKY_RELU);
    private static final float[] SPECIAL = {0f, -0f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
        1e30f, -1e30f, 3e38f, 1e-40f, -1e-40f, 6f, -3f, 3f, 1f, -1f, 20f, -20f, 90f, -90f};
    private static final int CHANNELS = 5;
    /** Not a multiple of any work-group size, so the last group is partly idle. */
    private static final int LENGTH = CHANNELS * 67;

    /** Every activation, leaky_relu and elu also with parameters that are not jax's defaults (nor binary). */
    static List<Activation> activations() {
        List<Activation> all = new ArrayList<>();
        for (Activation.Kind kind : Activation.Kind.values()) {
            all.add(Activation.of(kind));
        }
        all.add(Activation.leakyRelu(0.3f));
        all.add(Activation.elu(1.7f));
        return all;
    }

    /**
     * The combinations of parts (bit 0 scale, 1 shift, 2 residual) each activation is tested with: all eight with
     * relu and with one transcendental activation, so that every part's code is seen with each kind of activation
     * code; the others with none, all, and each part alone. Each combination is a program of its own, and a CPU
     * driver compiles each for about a quarter of a second: every activation with every combination would cost CI a
     * minute more for code the kernel shares between them.
     */
    static int[] partsFor(Activation activation) {
        Activation.Kind kind = activation.kind();
        return kind == Activation.Kind.RELU || kind == Activation.Kind.GELU
                ? new int[] {0, 1, 2, 3, 4, 5, 6, 7} : new int[] {0, 1, 2, 4, 7};
    }

    private OpenClBackend backend() {
        return OPENCL.backend();
    }

    @Test
    void passEqualsTheHostForEveryOtherActivationAndItsParts() {
        passEqualsTheHost(CiShare.defaultRun(activations(), 2).toList());
    }

    /** The activations the test above leaves to {@code -Pexhaustive} (each compiles programs of its own on PoCL). */
    @Tag("exhaustive")
    @Test
    void passEqualsTheHostForTheOtherActivationsAndTheirParts() {
        passEqualsTheHost(CiShare.exhaustiveRun(activations(), 2).toList());
    }

    private void passEqualsTheHost(List<Activation> activations) {
        Random random = new Random(25);
        for (Activation activation : activations) {
            for (int parts : partsFor(activation)) {
                Case c = Case.random(random, activation, parts, CHANNELS, LENGTH);
                checkPass(c);
            }
        }
    }

    @Test
    void gradientEqualsTheHostForEveryOtherActivationItsPartsWithAndWithoutDzConv() {
        gradientEqualsTheHost(CiShare.defaultRun(activations(), 2).toList());
    }

    /** The activations the test above leaves to {@code -Pexhaustive}. */
    @Tag("exhaustive")
    @Test
    void gradientEqualsTheHostForTheOtherActivationsItsPartsWithAndWithoutDzConv() {
        gradientEqualsTheHost(CiShare.exhaustiveRun(activations(), 2).toList());
    }

    private void gradientEqualsTheHost(List<Activation> activations) {
        Random random = new Random(52);
        for (Activation activation : activations) {
            for (int parts : partsFor(activation)) {
                Case c = Case.random(random, activation, parts, CHANNELS, LENGTH);
                checkGradient(c, (parts & 1) == 0);
            }
        }
    }

    @Test
    void oddSizes() {
        Random random = new Random(7);
        int[][] channelsAndLength = {{1, 1}, {1, 300}, {7, 7}, {3, 257 * 3}, {16, 16 * 16}, {2, 0}};
        for (Activation activation : List.of(Activation.relu(), Activation.gelu(false), Activation.elu(1.7f))) {
            for (int[] size : channelsAndLength) {
                Case c = Case.random(random, activation, 7, size[0], size[1]);
                checkPass(c);
                checkGradient(c, true);
            }
        }
    }

    @Test
    void operandsThatAreTheSameTensorGiveWhatTheHostGives() {
        Random random = new Random(3);
        Case c = Case.random(random, Activation.silu(), 2 | 4, CHANNELS, LENGTH);
        // The pass with its residual being the output itself.
        float[] expected = c.conv.clone();
        HostEpilogue.apply(c.withResidual(c.conv).host(), CHANNELS, expected);
        try (DeviceTensor output = upload(c.conv); DeviceTensor shift = upload(c.shift)) {
            backend().epiloguePass(new Epilogue<>(c.activation, null, shift, output), CHANNELS, output);
            compare(c.activation, "pass, residual = output", expected, output.download().data(),
                    c.withResidual(c.conv).preActivation(), false, i -> 1.0);
        }
        // The gradient with dz = dconv (no scale), as HostEpilogue.gradient allows.
        Epilogue<float[]> host = new Epilogue<>(c.activation, null, c.shift, c.residual);
        float[] dz = new float[LENGTH];
        HostEpilogue.gradient(host, CHANNELS, c.conv, c.dy, dz, null, dz);
        try (DeviceTensor conv = upload(c.conv); DeviceTensor dy = upload(c.dy); DeviceTensor shift = upload(c.shift);
                DeviceTensor residual = upload(c.residual); DeviceTensor both = backend().allocate(LENGTH)) {
            backend().epilogueGradient(new Epilogue<>(c.activation, null, shift, residual), CHANNELS, conv, dy, both,
                    null, both);
            compare(c.activation, "gradient, dz = dconv", dz, both.download().data(), c.preActivation(), true,
                    i -> Math.abs((double) c.dy[i]));
        }
    }

    @Test
    void theIdentityEpilogueAndANullOneLeaveTheOutputAsItIs() {
        float[] values = Case.random(new Random(9), Activation.identity(), 0, CHANNELS, LENGTH).conv;
        try (DeviceTensor output = upload(values)) {
            backend().epiloguePass(Epilogue.none(), CHANNELS, output);
            backend().epiloguePass(null, CHANNELS, output);
            assertBitsEqual(values, output.download().data(), "after none() and null");
        }
    }

    @Test
    void passRefusesBadOperandsBeforeAnyWork() {
        float[] values = Case.random(new Random(11), Activation.relu(), 0, 4, 12).conv;
        OpenClBackend other = OpenClBackend.create(backend().device());
        try (DeviceTensor output = upload(values); DeviceTensor three = backend().allocate(3);
                DeviceTensor four = upload(new float[] {1, 2, 3, 4}); DeviceTensor eleven = backend().allocate(11);
                DeviceTensor foreign = other.upload(Tensor.of(new float[] {1, 2, 3, 4}, 4))) {
            DeviceTensor closed = backend().upload(Tensor.of(new float[4], 4));
            closed.close();
            Activation relu = Activation.relu();
            refused(() -> backend().epiloguePass(new Epilogue<>(relu, four, null, null), 4, null), "output",
                    "null");
            refused(() -> backend().epiloguePass(new Epilogue<>(relu, four, null, null), 0, output), "channels",
                    "0");
            refused(() -> backend().epiloguePass(new Epilogue<>(relu, null, null, null), 5, output), "channels",
                    "5");
            refused(() -> backend().epiloguePass(new Epilogue<>(relu, three, null, null), 4, output), "scale",
                    "3 elements");
            refused(() -> backend().epiloguePass(new Epilogue<>(relu, null, three, null), 4, output), "shift",
                    "3 elements");
            refused(() -> backend().epiloguePass(new Epilogue<>(relu, null, null, eleven), 4, output), "residual",
                    "11 elements");
            refused(() -> backend().epiloguePass(new Epilogue<>(relu, foreign, null, null), 4, output), "scale",
                    "another backend");
            IllegalStateException closedOperand = assertThrows(IllegalStateException.class,
                    () -> backend().epiloguePass(new Epilogue<>(relu, null, closed, null), 4, output));
            assertTrue(closedOperand.getMessage().startsWith("shift: "), closedOperand.getMessage());
            assertBitsEqual(values, output.download().data(), "after the refused calls");
        } finally {
            other.close();
        }
    }

    @Test
    void gradientRefusesBadOperandsBeforeAnyWork() {
        float[] values = Case.random(new Random(13), Activation.relu(), 0, 4, 12).conv;
        try (DeviceTensor conv = upload(values); DeviceTensor dy = upload(values); DeviceTensor dz = upload(values);
                DeviceTensor dconv = upload(values); DeviceTensor eleven = backend().allocate(11);
                DeviceTensor three = backend().allocate(3)) {
            Epilogue<DeviceTensor> relu = new Epilogue<>(Activation.relu(), null, null, null);
            refused(() -> backend().epilogueGradient(relu, 4, null, dy, dz, null, dconv), "conv", "null");
            refused(() -> backend().epilogueGradient(relu, 4, conv, eleven, dz, null, dconv), "dy", "11 elements");
            refused(() -> backend().epilogueGradient(relu, 4, conv, dy, null, null, dconv), "dz", "null");
            refused(() -> backend().epilogueGradient(relu, 4, conv, dy, dz, eleven, dconv), "dzConv",
                    "11 elements");
            refused(() -> backend().epilogueGradient(relu, 4, conv, dy, dz, null, eleven), "dconv", "11 elements");
            refused(() -> backend().epilogueGradient(relu, -1, conv, dy, dz, null, dconv), "channels", "-1");
            refused(() -> backend().epilogueGradient(relu.withResidual(eleven), 4, conv, dy, dz, null, dconv),
                    "residual", "11 elements");
            refused(() -> backend().epilogueGradient(new Epilogue<>(Activation.relu(), three, null, null), 4, conv,
                    dy, dz, null, dconv), "scale", "3 elements");
            assertBitsEqual(values, dz.download().data(), "dz after the refused calls");
            assertBitsEqual(values, dconv.download().data(), "dconv after the refused calls");
        }
    }

    // ---- the checks ----------------------------------------------------------------------------------------

    private void checkPass(Case c) {
        float[] expected = c.conv.clone();
        HostEpilogue.apply(c.host(), c.channels, expected);
        float[] actual;
        try (DeviceTensor output = upload(c.conv); DeviceTensor scale = uploadOrNull(c.scale);
                DeviceTensor shift = uploadOrNull(c.shift); DeviceTensor residual = uploadOrNull(c.residual)) {
            backend().epiloguePass(new Epilogue<>(c.activation, scale, shift, residual), c.channels, output);
            actual = output.download().data();
        }
        compare(c.activation, "pass " + c, expected, actual, c.preActivation(), false, i -> 1.0);
    }

    private void checkGradient(Case c, boolean withDzConv) {
        int n = c.conv.length;
        float[] dz = new float[n];
        float[] dzConv = withDzConv ? new float[n] : null;
        float[] dconv = new float[n];
        HostEpilogue.gradient(c.host(), c.channels, c.conv, c.dy, dz, dzConv, dconv);
        float[][] actual = new float[3][];
        try (DeviceTensor conv = upload(c.conv); DeviceTensor dy = upload(c.dy);
                DeviceTensor scale = uploadOrNull(c.scale); DeviceTensor shift = uploadOrNull(c.shift);
                DeviceTensor residual = uploadOrNull(c.residual); DeviceTensor dzDevice = backend().allocate(n);
                DeviceTensor dzConvDevice = withDzConv ? backend().allocate(n) : null;
                DeviceTensor dconvDevice = backend().allocate(n)) {
            backend().epilogueGradient(new Epilogue<>(c.activation, scale, shift, residual), c.channels, conv, dy,
                    dzDevice, dzConvDevice, dconvDevice);
            actual[0] = dzDevice.download().data();
            actual[1] = withDzConv ? dzConvDevice.download().data() : null;
            actual[2] = dconvDevice.download().data();
        }
        String what = "gradient " + c + (withDzConv ? " with dzConv" : "");
        float[] z = c.preActivation();
        overflowAsJax(c.activation, z, dz, dzConv, dconv);
        compare(c.activation, what + ": dz", dz, actual[0], z, true, i -> Math.abs((double) c.dy[i]));
        if (withDzConv) {
            compare(c.activation, what + ": dzConv", dzConv, actual[1], z, true,
                    i -> Math.abs((double) c.dy[i] * c.conv[i]));
        }
        compare(c.activation, what + ": dconv", dconv, actual[2], z, true,
                i -> Math.abs((double) c.dy[i] * (c.scale == null ? 1 : c.scale[i % c.channels])));
    }

    /**
     * {@code actual} equals {@code expected} bit for bit where the activation is exact; elsewhere each element is
     * within {@link #ULPS} ulps of the larger of its own magnitude and its terms' ({@code factor(i)}, what
     * multiplies the activation or its derivative, times {@link #terms} at the pre-activation {@code z[i]}).
     */
    private static void compare(Activation activation, String what, float[] expected, float[] actual, float[] z,
            boolean derivative, Function<Integer, Double> factor) {
        assertEquals(expected.length, actual.length, what);
        if (EXACT.contains(activation.kind())) {
            assertBitsEqual(expected, actual, what);
            return;
        }
        for (int i = 0; i < expected.length; i++) {
            float e = expected[i];
            float a = actual[i];
            if (Float.floatToIntBits(e) == Float.floatToIntBits(a)) {
                continue;
            }
            // An infinite dy times a derivative that float32 rounds to 0 and float64 does not: NaN or infinity.
            boolean infiniteTimesTiny = Double.isInfinite(factor.apply(i)) && (Float.isNaN(a) || Float.isNaN(e));
            if (infiniteTimesTiny) {
                continue;
            }
            if (!Float.isFinite(e) || !Float.isFinite(a)) {
                fail(what + ": element " + i + " is " + a + ", expected " + e + " (" + activation + ")");
            }
            double magnitude = Math.max(Math.abs(e), factor.apply(i) * terms(activation.kind(), derivative, z[i]));
            // Where exp leaves float32's normal range (|z| > 87), the kernel's sigmoid is 0 or 1 and Java's, rounded
            // from a double, a subnormal or 1 - 2^-24: an absolute error below MIN_NORMAL, times what multiplies it.
            double underflow = factor.apply(i) * (1 + Math.abs((double) z[i])) * Float.MIN_NORMAL;
            double bound = ULPS * Math.ulp((float) Math.min(Float.MAX_VALUE, magnitude)) + underflow;
            if (Math.abs((double) a - e) > bound) {
                fail(what + ": element " + i + " is " + a + ", expected " + e + ", more than " + ULPS
                        + " ulps of " + magnitude + " apart (" + activation + ")");
            }
        }
    }

    /**
     * gelu_tanh's derivative where {@code z * z} overflows float32 (|z| > 1.8e19): jax's float32 autodiff multiplies
     * the {@code 0} of {@code 1 - tanh^2} by the infinite {@code 3 * 0.044715 * z^2}, NaN, and so does the kernel;
     * {@code Activation.derivative} works in float64 there and gives 0. The kernel is held to jax's NaN.
     */
    private static void overflowAsJax(Activation activation, float[] z, float[]... gradients) {
        if (activation.kind() != Activation.Kind.GELU_TANH) {
            return;
        }
        for (int i = 0; i < z.length; i++) {
            if (Float.isInfinite(z[i] * z[i])) {
                for (float[] gradient : gradients) {
                    if (gradient != null) {
                        gradient[i] = Float.NaN;
                    }
                }
            }
        }
    }

    /**
     * The size of the terms whose errors are absolute in the float32 formulas of activation.cl (0 where the errors
     * are relative to the result): gelu's {@code z * (erf + 1) / 2} and gelu_tanh's {@code z * (1 + tanh) / 2}
     * cancel for negative z; the derivatives' {@code erf + 1}, {@code 1 - t * t}, {@code 1 - s} and hard_swish's
     * two quotients cancel where the derivative is small.
     */
    static double terms(Activation.Kind kind, boolean derivative, float z) {
        double x = Math.abs((double) z);
        double s = 1 / (1 + Math.exp(-(double) z));
        if (!derivative) {
            return kind == Activation.Kind.GELU || kind == Activation.Kind.GELU_TANH ? x : 0;
        }
        return switch (kind) {
            case GELU, TANH, HARD_SWISH -> 1;
            case GELU_TANH -> 1 + 0.4 * x * (1 + 3 * 0.044715 * x * x);
            case SILU -> s * (1 + x);
            case SIGMOID -> s;
            default -> 0;
        };
    }

    private static void assertBitsEqual(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToIntBits(expected[i]) != Float.floatToIntBits(actual[i])) {
                fail(what + ": element " + i + " is " + actual[i] + " (" + Integer.toHexString(
                        Float.floatToRawIntBits(actual[i])) + "), expected " + expected[i] + " ("
                        + Integer.toHexString(Float.floatToRawIntBits(expected[i])) + ")");
            }
        }
    }

    private static void refused(Executable call, String parameter, String value) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().startsWith(parameter + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(value), e.getMessage());
    }

    private DeviceTensor upload(float[] values) {
        return backend().upload(Tensor.of(values, values.length));
    }

    private DeviceTensor uploadOrNull(float[] values) {
        return values == null ? null : upload(values);
    }

    /** One epilogue's operands: random values with special ones mixed in; parts bit 0 scale, 1 shift, 2 residual. */
    record Case(Activation activation, int channels, float[] conv, float[] dy, float[] scale, float[] shift,
            float[] residual) {
        static Case random(Random random, Activation activation, int parts, int channels, int length) {
            return new Case(activation, channels, values(random, length, 0.15),
                    values(random, length, 0.15), (parts & 1) != 0 ? values(random, channels, 0.1) : null,
                    (parts & 2) != 0 ? values(random, channels, 0.1) : null,
                    (parts & 4) != 0 ? values(random, length, 0.1) : null);
        }

        /** Mostly N(0, 3), a {@code special} fraction from {@link #SPECIAL}. */
        private static float[] values(Random random, int length, double special) {
            float[] values = new float[length];
            for (int i = 0; i < length; i++) {
                values[i] = random.nextDouble() < special ? SPECIAL[random.nextInt(SPECIAL.length)]
                        : (float) (3 * random.nextGaussian());
            }
            return values;
        }

        Case withResidual(float[] values) {
            return new Case(activation, channels, conv, dy, scale, shift, values);
        }

        Epilogue<float[]> host() {
            return new Epilogue<>(activation, scale, shift, residual);
        }

        /** The sums the activation is applied to, formed as the host's loop forms them. */
        float[] preActivation() {
            float[] z = conv.clone();
            HostEpilogue.apply(new Epilogue<>(Activation.identity(), scale, shift, residual), channels, z);
            return z;
        }

        @Override
        public String toString() {
            return host() + " over " + conv.length + " elements of " + channels + " channels";
        }
    }
}
