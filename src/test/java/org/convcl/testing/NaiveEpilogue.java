package org.convcl.testing;

import org.convcl.Activation;

/**
 * An independent float64 reference of a convolution's epilogue, for tests: {@code jax.nn}'s activations and the
 * derivatives jax's autodiff gives them, written from their definitions in double precision (erf from its Taylor
 * series and its asymptotic continued fraction, not from the library's fit), and the epilogue
 * {@code act(scale[c] * conv + shift[c] + residual)} over a channels-last float64 tensor. Shares no code with the
 * library's {@code Activation} or {@code HostEpilogue} beyond reading an {@link Activation}'s kind and parameter.
 */
public final class NaiveEpilogue {
    private NaiveEpilogue() {
    }

    /** The activation of {@code z} in float64. */
    public static double apply(Activation activation, double z) {
        double p = activation.parameter();
        return switch (activation.kind()) {
            case IDENTITY -> z;
            case RELU -> Double.isNaN(z) ? z : Math.max(z, 0);
            case RELU6 -> Double.isNaN(z) ? z : Math.min(Math.max(z, 0), 6);
            case LEAKY_RELU -> z >= 0 ? z : p * z;
            case ELU -> z > 0 ? z : p * Math.expm1(z);
            case GELU -> 0.5 * z * erfc(-z / Math.sqrt(2));
            case GELU_TANH -> z * 0.5 * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (z + 0.044715 * z * z * z)));
            case SILU -> z * sigmoid(z);
            case SIGMOID -> sigmoid(z);
            case TANH -> Math.tanh(z);
            case HARD_SWISH -> z * (Double.isNaN(z) ? z : Math.min(Math.max(z + 3, 0), 6)) / 6;
        };
    }

    /** {@code d act / dz} at {@code z} as jax's autodiff gives it (relu's and relu6's select 0 off their open interval). */
    public static double derivative(Activation activation, double z) {
        double p = activation.parameter();
        switch (activation.kind()) {
            case IDENTITY:
                return 1;
            case RELU:
                return z > 0 ? 1 : 0;
            case RELU6:
                return z > 0 && z < 6 ? 1 : 0;
            case LEAKY_RELU:
                return z >= 0 ? 1 : p;
            case ELU:
                return z > 0 ? 1 : p * Math.exp(z);
            case GELU:
                return 0.5 * erfc(-z / Math.sqrt(2)) + z * Math.exp(-z * z / 2) / Math.sqrt(2 * Math.PI);
            case GELU_TANH: {
                if (Math.abs(z) > Math.sqrt(Float.MAX_VALUE)) {
                    // jax differentiates in float32: z * z overflows there, and (1 - tanh^2) * inf is 0 * inf.
                    return Double.NaN;
                }
                double k = Math.sqrt(2 / Math.PI);
                double t = Math.tanh(k * (z + 0.044715 * z * z * z));
                return 0.5 * (1 + t) + 0.5 * z * (1 - t * t) * k * (1 + 3 * 0.044715 * z * z);
            }
            case SILU: {
                double s = sigmoid(z);
                return s + z * s * (1 - s);
            }
            case SIGMOID: {
                double s = sigmoid(z);
                return s * (1 - s);
            }
            case TANH: {
                double t = Math.tanh(z);
                return 1 - t * t;
            }
            case HARD_SWISH: {
                double u = z + 3;
                double relu6 = Double.isNaN(u) ? u : Math.min(Math.max(u, 0), 6);
                return relu6 / 6 + (u > 0 && u < 6 ? z / 6 : 0 * z);
            }
            default:
                throw new AssertionError(activation);
        }
    }

    /** The largest |act'| anywhere: the factor by which an error in the pre-activation can grow. */
    public static double slopeBound(Activation activation) {
        return 1.2 * Math.max(1, Math.abs(activation.parameter()));
    }

    /**
     * The epilogue of a channels-last {@code conv} (float64, bias included) with {@code channels} channels: each
     * part may be null. Returns the outputs; {@code preActivation}, when not null, receives the sums.
     */
    public static double[] apply(Activation activation, double[] conv, int channels, float[] scale, float[] shift,
            float[] residual, double[] preActivation) {
        double[] y = new double[conv.length];
        for (int i = 0; i < conv.length; i++) {
            int c = i % channels;
            double z = conv[i] * (scale == null ? 1 : scale[c]) + (shift == null ? 0 : shift[c])
                    + (residual == null ? 0 : residual[i]);
            if (preActivation != null) {
                preActivation[i] = z;
            }
            y[i] = apply(activation, z);
        }
        return y;
    }

    /**
     * The scale of each output's error for {@link Tolerance}: a float32 convolution whose error is bounded by
     * {@code RELATIVE * convScale[i]} passes through {@code scale} and the activation's slope, and each of the
     * epilogue's float32 operations adds rounding of the size of its operands.
     */
    public static double[] errorScale(Activation activation, double[] conv, double[] convScale, int channels,
            float[] scale, float[] shift, float[] residual) {
        double slope = slopeBound(activation);
        double[] bound = new double[conv.length];
        for (int i = 0; i < conv.length; i++) {
            int c = i % channels;
            double s = scale == null ? 1 : Math.abs(scale[c]);
            double operands = s * Math.abs(conv[i]) + (shift == null ? 0 : Math.abs(shift[c]))
                    + (residual == null ? 0 : Math.abs(residual[i]));
            bound[i] = slope * (s * convScale[i] + operands);
        }
        return bound;
    }

    private static double sigmoid(double z) {
        return 1 / (1 + Math.exp(-z));
    }

    /**
     * erfc in float64, without the cancellation of {@code 1 - erf} in the upper tail: erfc's continued fraction for
     * x >= 3, {@code 2 - erfc(-x)} below -3, {@code 1 - erf} between.
     */
    public static double erfc(double x) {
        if (Double.isNaN(x)) {
            return x;
        }
        if (x >= 3) {
            return x > 27 ? 0 : Math.exp(-x * x) / Math.sqrt(Math.PI) / continuedFraction(x);
        }
        if (x <= -3) {
            return 2 - erfc(-x);
        }
        return 1 - erf(x);
    }

    /** {@code a + 1/2/(a + 1/(a + 3/2/(a + ...)))}, the denominator of erfc's continued fraction, bottom up. */
    private static double continuedFraction(double a) {
        double fraction = a;
        for (int k = 120; k >= 1; k--) {
            fraction = a + (k / 2.0) / fraction;
        }
        return fraction;
    }

    /**
     * erf in float64: the Taylor series {@code 2/sqrt(pi) * sum (-1)^n x^(2n+1) / (n! (2n+1))} for |x| < 3, and
     * {@code 1 - erfc} from erfc's continued fraction beyond (both converge to double precision there).
     */
    public static double erf(double x) {
        if (Double.isNaN(x)) {
            return x;
        }
        double a = Math.abs(x);
        double result;
        if (a < 3) {
            double term = a;
            double sum = a;
            double x2 = a * a;
            for (int n = 1; n < 200 && Math.abs(term) > 1e-18 * Math.abs(sum); n++) {
                term *= -x2 / n;
                sum += term / (2 * n + 1);
            }
            result = 2 / Math.sqrt(Math.PI) * sum;
        } else if (a > 27) {
            result = 1;
        } else {
            result = 1 - erfc(a);
        }
        return x < 0 ? -result : result;
    }
}
