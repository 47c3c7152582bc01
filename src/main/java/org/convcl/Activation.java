package org.convcl;

import java.util.Locale;
import java.util.Objects;

/**
 * The activation of a convolution's {@link Epilogue}, with {@code jax.nn}'s definitions, computed in float32 as
 * jax computes them: {@link #apply} is the forward function and {@link #derivative} the slope jax's autodiff gives
 * at a pre-activation {@code z} (relu's subgradient at 0 is 0, as {@code jax.nn.relu}'s custom JVP makes it). NaN
 * propagates through every function as through jax's; infinities follow the formulas (so {@code silu(-inf)},
 * {@code gelu(-inf)} and {@code hard_swish(-inf)} are NaN, {@code -inf * 0}, as in jax).
 *
 * <p>The OpenCL kernels compute the same functions from {@code kernels/activation.cl}, selected by the
 * {@link Kind#code() code} and {@link #parameter()} this class gives them. Immutable; equal by kind and parameter.
 */
public final class Activation {
    /** jax.nn's default {@code negative_slope} of {@code leaky_relu}. */
    public static final float DEFAULT_LEAKY_SLOPE = 0.01f;
    /** jax.nn's default {@code alpha} of {@code elu}. */
    public static final float DEFAULT_ELU_ALPHA = 1.0f;

    /** The functions, with the name the CLI and messages use and the code the kernels switch on. */
    public enum Kind {
        /** {@code z}. */
        IDENTITY("identity", 0, false),
        /** {@code jax.nn.relu}: {@code max(z, 0)}. */
        RELU("relu", 1, false),
        /** {@code jax.nn.relu6}: {@code min(max(z, 0), 6)}. */
        RELU6("relu6", 2, false),
        /** {@code jax.nn.leaky_relu(z, negative_slope)}: {@code z >= 0 ? z : slope * z}. */
        LEAKY_RELU("leaky_relu", 3, true),
        /** {@code jax.nn.elu(z, alpha)}: {@code z > 0 ? z : alpha * expm1(z)}. */
        ELU("elu", 4, true),
        /**
         * {@code jax.nn.gelu(z, approximate=False)}: {@code 0.5 * z * erfc(-z * sqrt(0.5))}, jax's form, which keeps
         * the negative tail's tiny values that {@code z * (1 + erf(z / sqrt 2)) / 2} would cancel to zero.
         */
        GELU("gelu", 5, false),
        /**
         * {@code jax.nn.gelu(z, approximate=True)} (jax's default):
         * {@code z * (1 + tanh(sqrt(2 / pi) * (z + 0.044715 z^3))) / 2}.
         */
        GELU_TANH("gelu_tanh", 6, false),
        /** {@code jax.nn.silu} (swish): {@code z * sigmoid(z)}. */
        SILU("silu", 7, false),
        /** {@code jax.nn.sigmoid}: {@code 1 / (1 + exp(-z))}. */
        SIGMOID("sigmoid", 8, false),
        /** {@code jnp.tanh}. */
        TANH("tanh", 9, false),
        /** {@code jax.nn.hard_swish} (hard_silu): {@code z * relu6(z + 3) / 6}. */
        HARD_SWISH("hard_swish", 10, false);

        private final String label;
        private final int code;
        private final boolean parametrised;

        Kind(String label, int code, boolean parametrised) {
            this.label = label;
            this.code = code;
            this.parametrised = parametrised;
        }

        /** The name the CLI takes and messages print: {@code relu}, {@code leaky_relu}, ... */
        public String label() {
            return label;
        }

        /** The value of {@code -DACTIVATION} that selects this function in {@code kernels/activation.cl}. */
        public int code() {
            return code;
        }

        /** Whether the function takes a parameter (leaky_relu's slope, elu's alpha). */
        public boolean parametrised() {
            return parametrised;
        }
    }

    private static final Activation IDENTITY = new Activation(Kind.IDENTITY, 0f);

    private final Kind kind;
    private final float parameter;

    private Activation(Kind kind, float parameter) {
        this.kind = kind;
        this.parameter = parameter;
    }

    /** {@code z}: no activation. */
    public static Activation identity() {
        return IDENTITY;
    }

    /** {@code jax.nn.relu}. */
    public static Activation relu() {
        return new Activation(Kind.RELU, 0f);
    }

    /** {@code jax.nn.relu6}. */
    public static Activation relu6() {
        return new Activation(Kind.RELU6, 0f);
    }

    /** {@code jax.nn.leaky_relu} with jax's default slope 0.01. */
    public static Activation leakyRelu() {
        return leakyRelu(DEFAULT_LEAKY_SLOPE);
    }

    /** {@code jax.nn.leaky_relu(z, negative_slope)}; the slope must be finite. */
    public static Activation leakyRelu(float negativeSlope) {
        return new Activation(Kind.LEAKY_RELU, finite("leaky_relu slope", negativeSlope));
    }

    /** {@code jax.nn.elu} with jax's default alpha 1. */
    public static Activation elu() {
        return elu(DEFAULT_ELU_ALPHA);
    }

    /** {@code jax.nn.elu(z, alpha)}; alpha must be finite. */
    public static Activation elu(float alpha) {
        return new Activation(Kind.ELU, finite("elu alpha", alpha));
    }

    /** {@code jax.nn.gelu(z, approximate)}: the tanh approximation when {@code approximate} (jax's default). */
    public static Activation gelu(boolean approximate) {
        return new Activation(approximate ? Kind.GELU_TANH : Kind.GELU, 0f);
    }

    /** {@code jax.nn.silu}. */
    public static Activation silu() {
        return new Activation(Kind.SILU, 0f);
    }

    /** {@code jax.nn.sigmoid}. */
    public static Activation sigmoid() {
        return new Activation(Kind.SIGMOID, 0f);
    }

    /** {@code jnp.tanh}. */
    public static Activation tanh() {
        return new Activation(Kind.TANH, 0f);
    }

    /** {@code jax.nn.hard_swish}. */
    public static Activation hardSwish() {
        return new Activation(Kind.HARD_SWISH, 0f);
    }

    /** {@code kind} with its default parameter (0.01 for leaky_relu, 1 for elu). */
    public static Activation of(Kind kind) {
        Objects.requireNonNull(kind, "kind");
        return switch (kind) {
            case LEAKY_RELU -> leakyRelu();
            case ELU -> elu();
            case IDENTITY -> IDENTITY;
            default -> new Activation(kind, 0f);
        };
    }

    /**
     * Parses {@code NAME[:PARAM]}: a {@link Kind#label()} ({@code relu}, {@code gelu_tanh}, ...; case does not
     * matter), and for {@code leaky_relu} and {@code elu} an optional finite parameter ({@code leaky_relu:0.2},
     * {@code elu:0.5}). Anything else is an {@link IllegalArgumentException} naming the value and what is accepted.
     */
    public static Activation parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("activation: got null; expected " + accepted());
        }
        int colon = text.indexOf(':');
        String name = (colon < 0 ? text : text.substring(0, colon)).trim().toLowerCase(Locale.ROOT);
        Kind kind = null;
        for (Kind k : Kind.values()) {
            if (k.label.equals(name)) {
                kind = k;
            }
        }
        if (kind == null) {
            throw new IllegalArgumentException("activation: unknown '" + text + "'; expected " + accepted());
        }
        if (colon < 0) {
            return of(kind);
        }
        if (!kind.parametrised) {
            throw new IllegalArgumentException("activation: '" + text + "' gives a parameter to " + kind.label
                    + ", which takes none; only leaky_relu:SLOPE and elu:ALPHA do");
        }
        String value = text.substring(colon + 1).trim();
        float parameter;
        try {
            parameter = Float.parseFloat(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("activation: parameter '" + value + "' of " + kind.label
                    + " is not a number; expected a finite float, as in " + kind.label + ":0.2");
        }
        return kind == Kind.LEAKY_RELU ? leakyRelu(parameter) : elu(parameter);
    }

    private static String accepted() {
        StringBuilder names = new StringBuilder("one of ");
        for (Kind k : Kind.values()) {
            names.append(k.ordinal() == 0 ? "" : ", ").append(k.label).append(k.parametrised ? "[:PARAM]" : "");
        }
        return names.toString();
    }

    private static float finite(String what, float value) {
        if (!Float.isFinite(value)) {
            throw new IllegalArgumentException("activation: " + what + " is " + value + "; it must be finite");
        }
        return value;
    }

    public Kind kind() {
        return kind;
    }

    /** leaky_relu's negative slope or elu's alpha; 0 for the functions without a parameter. */
    public float parameter() {
        return parameter;
    }

    /** Whether this is the identity (no activation). */
    public boolean isIdentity() {
        return kind == Kind.IDENTITY;
    }

    /** The activation of a pre-activation {@code z}, in float32 as jax computes it. */
    public float apply(float z) {
        return switch (kind) {
            case IDENTITY -> z;
            case RELU -> relu(z);
            case RELU6 -> relu6(z);
            case LEAKY_RELU -> z >= 0f ? z : parameter * z;
            case ELU -> z > 0f ? z : parameter * (float) Math.expm1(z);
            case GELU -> 0.5f * z * erfc(-z * SQRT_HALF);
            case GELU_TANH -> z * (0.5f * (1f + (float) Math.tanh(geluTanhArgument(z))));
            case SILU -> z * sigmoid(z);
            case SIGMOID -> sigmoid(z);
            case TANH -> (float) Math.tanh(z);
            case HARD_SWISH -> z * relu6(z + 3f) / 6f;
        };
    }

    /**
     * {@code d apply(z) / dz} as jax's autodiff of {@code jax.nn}'s definition gives it: relu's and relu6's custom
     * JVPs select 0 outside the open intervals (so at 0, at 6 and for NaN), leaky_relu's slope is 1 at 0.
     */
    public float derivative(float z) {
        switch (kind) {
            case IDENTITY:
                return 1f;
            case RELU:
                return z > 0f ? 1f : 0f;
            case RELU6:
                return z > 0f && z < 6f ? 1f : 0f;
            case LEAKY_RELU:
                return z >= 0f ? 1f : parameter;
            case ELU:
                return z > 0f ? 1f : parameter * (float) Math.exp(z);
            case GELU: {
                double x = z;
                double cdf = 0.5 * erfc(-x * Math.sqrt(0.5));
                double pdf = Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI);
                return (float) (cdf + x * pdf);
            }
            case GELU_TANH: {
                // In float32 as jax's autodiff runs it: beyond |z| = 1.8e19, z * z overflows and 0 * inf is NaN.
                float t = (float) Math.tanh(geluTanhArgument(z));
                float k = (float) GELU_K;
                float c = (float) GELU_C;
                return 0.5f * (1f + t) + 0.5f * z * (1f - t * t) * k * (1f + 3f * c * z * z);
            }
            case SILU: {
                float s = sigmoid(z);
                return s + z * s * (1f - s);
            }
            case SIGMOID: {
                float s = sigmoid(z);
                return s * (1f - s);
            }
            case TANH: {
                float t = (float) Math.tanh(z);
                return 1f - t * t;
            }
            case HARD_SWISH: {
                float u = z + 3f;
                return relu6(u) / 6f + (u > 0f && u < 6f ? z / 6f : 0f * z);
            }
            default:
                throw new AssertionError(kind);
        }
    }

    private static final float SQRT_HALF = (float) Math.sqrt(0.5);
    private static final double GELU_K = Math.sqrt(2 / Math.PI);
    private static final double GELU_C = 0.044715;

    private static double geluTanhArgument(double x) {
        return GELU_K * (x + GELU_C * (x * x * x));
    }

    private static float relu(float z) {
        // jnp.maximum: NaN propagates.
        return z > 0f ? z : (z != z ? z : 0f);
    }

    private static float relu6(float z) {
        return z != z ? z : Math.min(Math.max(z, 0f), 6f);
    }

    private static float sigmoid(float z) {
        return (float) (1 / (1 + Math.exp(-(double) z)));
    }

    private static float erfc(float x) {
        return (float) erfc((double) x);
    }

    /**
     * The complementary error function to about 1.2e-7 relative everywhere (Numerical Recipes' Chebyshev fit), enough
     * for float32, in the tails too. NaN stays NaN; erfc(+inf) = 0, erfc(-inf) = 2.
     */
    static double erfc(double x) {
        if (x != x) {
            return x;
        }
        double z = Math.abs(x);
        double t = 1 / (1 + 0.5 * z);
        double tail = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
                + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
                + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? tail : 2 - tail;
    }

    /** {@code relu}, {@code leaky_relu:0.2}, ...: the form {@link #parse} reads. */
    @Override
    public String toString() {
        return kind.parametrised ? kind.label + ":" + parameter : kind.label;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Activation a && a.kind == kind
                && Float.floatToIntBits(a.parameter) == Float.floatToIntBits(parameter);
    }

    @Override
    public int hashCode() {
        return kind.hashCode() * 31 + Float.hashCode(parameter);
    }
}
