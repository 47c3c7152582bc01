package org.convcl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import org.convcl.testing.NaiveEpilogue;
import org.junit.jupiter.api.Test;

/**
 * {@link Activation}'s float32 functions and derivatives against the float64 reference ({@link NaiveEpilogue}) at
 * their special points: zeros of both signs, tiny and huge magnitudes, where exp over- and underflows, the kinks,
 * NaN and the infinities (which propagate as jax's do); and {@link Activation#parse}, which takes every name and
 * refuses what it cannot read, naming the value.
 */
class ActivationTest {
    /** Within float32 rounding of the float64 value, a few ulps, subnormal results included. */
    private static final double RELATIVE = 2e-6;
    /**
     * And within float32 rounding of the terms the formulas cancel ({@code 1 - sigmoid(z)}, {@code 1 + erf(z / sqrt 2)}),
     * which are of the size of 1 for |z| >= 1 and of z below: jax's float32 arithmetic cancels them the same way.
     */
    private static final double CANCELLATION = 0x1p-22;

    private static final float[] SPECIAL_POINTS = {0f, -0f, 1e-30f, -1e-30f, Float.MIN_VALUE, 0.5f, -0.5f, 1f,
        -1f, 2f, -2f, 3f, -3f, 6f, -6f, 5.9999995f, 6.0000005f, 88f, -88f, 1e4f, -1e4f, 1e30f, -1e30f,
        Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN};

    private static List<Activation> activations() {
        List<Activation> all = new ArrayList<>();
        for (Activation.Kind kind : Activation.Kind.values()) {
            all.add(Activation.of(kind));
        }
        all.add(Activation.leakyRelu(0.2f));
        all.add(Activation.leakyRelu(-1.5f));
        all.add(Activation.elu(0.5f));
        all.add(Activation.elu(2f));
        return all;
    }

    @Test
    void functionsMatchTheFloat64ReferenceAtSpecialPoints() {
        for (Activation activation : activations()) {
            for (float z : SPECIAL_POINTS) {
                assertNear(activation + "(" + z + ")", z, NaiveEpilogue.apply(activation, z), activation.apply(z));
            }
        }
    }

    @Test
    void derivativesMatchTheFloat64ReferenceAtSpecialPoints() {
        for (Activation activation : activations()) {
            for (float z : SPECIAL_POINTS) {
                assertNear(activation + "'(" + z + ")", z, NaiveEpilogue.derivative(activation, z),
                        activation.derivative(z));
            }
        }
    }

    /**
     * jax's own results where formulas meet infinities or NaN and where subgradients are chosen: each stated as
     * jax gives it and checked against both this class and the reference.
     */
    @Test
    void nonFiniteInputsAndKinksFollowJax() {
        float inf = Float.POSITIVE_INFINITY;
        float nan = Float.NaN;
        // x * sigmoid(x) and x * (1 + erf(..)) / 2 are -inf * 0 at -inf.
        assertBoth(Activation.silu(), -inf, nan, false);
        assertBoth(Activation.gelu(false), -inf, nan, false);
        assertBoth(Activation.gelu(true), -inf, nan, false);
        assertBoth(Activation.hardSwish(), -inf, nan, false);
        for (Activation elu : List.of(Activation.elu(), Activation.elu(0.5f))) {
            assertBoth(elu, -inf, -elu.parameter(), false);
        }
        for (Activation activation : activations()) {
            assertBoth(activation, nan, nan, false);
        }
        assertBoth(Activation.relu(), inf, inf, false);
        assertBoth(Activation.relu6(), inf, 6f, false);
        assertBoth(Activation.sigmoid(), -inf, 0f, false);
        assertBoth(Activation.tanh(), -inf, -1f, false);
        // Subgradients: relu's and relu6's custom JVPs give 0 at the kinks and for NaN; leaky_relu's is 1 at 0.
        assertBoth(Activation.relu(), 0f, 0f, true);
        assertBoth(Activation.relu(), nan, 0f, true);
        assertBoth(Activation.relu6(), 0f, 0f, true);
        assertBoth(Activation.relu6(), 6f, 0f, true);
        assertBoth(Activation.relu6(), nan, 0f, true);
        assertBoth(Activation.leakyRelu(), 0f, 1f, true);
        assertBoth(Activation.leakyRelu(0.2f), -0f, 1f, true);
        // hard_swish = x * relu6(x + 3) / 6: relu6's derivative is 0 at x + 3 = 0 and at x + 3 = 6.
        assertBoth(Activation.hardSwish(), -3f, 0f, true);
        assertBoth(Activation.hardSwish(), 3f, 1f, true);
        assertBoth(Activation.hardSwish(), -3f, 0f, false);
        assertBoth(Activation.relu6(), 6f, 6f, false);
        // gelu_tanh's derivative in float32: beyond sqrt(Float.MAX_VALUE) its 3 * c * z * z overflows and meets
        // tanh's zero slope, 0 * inf; below, it is 1 (and 0 on the negative side).
        assertBoth(Activation.gelu(true), 1e30f, nan, true);
        assertBoth(Activation.gelu(true), -1e30f, nan, true);
        assertBoth(Activation.gelu(true), 1e15f, 1f, true);
    }

    private static void assertBoth(Activation activation, float z, float expected, boolean derivative) {
        String what = activation + (derivative ? "'" : "") + "(" + z + ")";
        float got = derivative ? activation.derivative(z) : activation.apply(z);
        double reference = derivative ? NaiveEpilogue.derivative(activation, z) : NaiveEpilogue.apply(activation, z);
        assertEquals(expected, got, 0f, what);
        assertEquals(expected, reference, 0.0, what + " (reference)");
    }

    /**
     * NaN where the reference is NaN, the same infinity, else within {@link #RELATIVE} of it plus
     * {@link #CANCELLATION} of {@code min(|z|, 1)} (zeros of either sign are equal).
     */
    private static void assertNear(String what, float z, double expected, float got) {
        if (Double.isNaN(expected) || Double.isInfinite(expected)) {
            assertEquals(expected, got, 0.0, what);
            return;
        }
        double bound = RELATIVE * Math.abs(expected) + CANCELLATION * (Float.isNaN(z) ? 0 : Math.min(Math.abs(z), 1))
                + Float.MIN_VALUE;
        if (!(Math.abs(got - expected) <= bound)) {
            fail(what + ": got " + got + ", expected " + expected + " (error " + Math.abs(got - expected)
                    + " > " + bound + ")");
        }
    }

    @Test
    void parseReadsWhatToStringWrites() {
        for (Activation activation : activations()) {
            assertEquals(activation, Activation.parse(activation.toString()));
            assertEquals(activation, Activation.parse(" " + activation.toString().toUpperCase() + " "));
        }
        assertEquals(Activation.leakyRelu(0.2f), Activation.parse("leaky_relu:0.2"));
        assertEquals(Activation.elu(0.5f), Activation.parse("elu: 0.5"));
    }

    @Test
    void parseRefusesWhatItCannotReadNamingTheValue() {
        assertRefused("swish", "'swish'", "expected one of identity, relu");
        assertRefused("relu:0.1", "'relu:0.1'", "takes none");
        assertRefused("gelu:1", "'gelu:1'", "takes none");
        assertRefused("leaky_relu:abc", "'abc'", "not a number");
        assertRefused("elu:", "''", "not a number");
        assertRefused("elu:Infinity", "Infinity", "must be finite");
        assertRefused("leaky_relu:NaN", "NaN", "must be finite");
        assertRefused("leaky_relu:-1e39", "-Infinity", "must be finite");
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class, () -> Activation.parse(null));
        assertTrue(none.getMessage().contains("null"), none.getMessage());
    }

    private static void assertRefused(String text, String value, String rule) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Activation.parse(text),
                text);
        String message = e.getMessage();
        assertTrue(message.startsWith("activation: "), "names the parameter: " + message);
        assertTrue(message.contains(value), "names the value " + value + ": " + message);
        assertTrue(message.contains(rule), "states the rule: " + message);
    }
}
