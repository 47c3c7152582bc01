package org.convcl;

import org.convcl.nn.Conv;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.LongStream;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.testing.NaiveConv;
import org.convcl.testing.RandomConfig;
import org.convcl.testing.RandomTensors;
import org.convcl.testing.Reference;
import org.convcl.testing.Tolerance;
import org.junit.jupiter.api.Test;

/**
 * NaN and infinities propagate as IEEE 754 arithmetic says: an output is NaN exactly where the float64 naive
 * reference is NaN (a NaN term, {@code 0 * Inf}, {@code Inf - Inf}), the same infinity where it is infinite,
 * and finite and accurate elsewhere; nothing throws. Kernels hold exact zeros so that {@code 0 * NaN} and
 * {@code 0 * Inf} are exercised: a backend that skipped zero weights, or read input lanes it should not, would
 * show here.
 *
 * <p>The reference materialises the zeros of padding and input dilation, so a non-finite weight over one is
 * {@code 0 * Inf = NaN} there, as in jax; the Java path must agree (NonFinitePaddingTest covers the gradients
 * and OpenCL).
 */
class NonFiniteValuesTest {
    private static final int CONFIGS = 300;
    private static final float[] SPECIAL = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};

    @Test
    void nonFiniteInputsPropagateLikeTheReference() {
        int nonFiniteOutputs = 0;
        for (RandomConfig config : configs()) {
            SplittableRandom random = new SplittableRandom(config.seed() * 17 + 3);
            Tensor x = RandomTensors.uniform(random, config.inputShape());
            sprinkle(random, x.data(), 1 + random.nextInt(3));
            Tensor kernel = withZeros(random, RandomTensors.uniform(random, config.kernelShape()));
            Tensor bias = bias(random, config);
            if (bias != null && random.nextInt(8) == 0) {
                sprinkle(random, bias.data(), 1);
            }
            nonFiniteOutputs += check(config, x, kernel, bias);
        }
        assertTrue(nonFiniteOutputs > 1000, "the non-finite values reach the outputs: " + nonFiniteOutputs);
    }

    @Test
    void nonFiniteWeightsPropagateLikeTheReference() {
        int checked = 0;
        int overImplicitZeros = 0;
        int nonFiniteOutputs = 0;
        for (RandomConfig config : configs()) {
            overImplicitZeros += multipliesNoImplicitZeros(config) ? 0 : 1;
            SplittableRandom random = new SplittableRandom(config.seed() * 13 + 5);
            Tensor x = RandomTensors.uniform(random, config.inputShape());
            if (random.nextBoolean()) {
                sprinkle(random, x.data(), 1);
            }
            Tensor kernel = withZeros(random, RandomTensors.uniform(random, config.kernelShape()));
            sprinkle(random, kernel.data(), 1 + random.nextInt(2));
            nonFiniteOutputs += check(config, x, kernel, bias(random, config));
            checked++;
        }
        assertTrue(overImplicitZeros > 50, "enough configurations with padding or dilation zeros: "
                + overImplicitZeros + " of " + checked);
        assertTrue(nonFiniteOutputs > 500, "the non-finite weights reach the outputs: " + nonFiniteOutputs);
    }

    /** Runs the layer and the reference; returns how many outputs were non-finite. */
    private static int check(RandomConfig config, Tensor x, Tensor kernel, Tensor bias) {
        Tensor mask = config.mask() ? maskOf(new SplittableRandom(config.seed()), config.kernelShape()) : null;
        ConvSpec spec = ConvSpec.builder().strides(config.strides()).inputDilation(config.inputDilation())
                .kernelDilation(config.kernelDilation()).padding(config.padding()).groups(config.groups()).build();
        Tensor y = Conv.builder(kernel).bias(bias).mask(mask).spec(spec).backend(CpuBackend.instance()).build()
                .apply(x);

        double[] effectiveKernel = Tolerance.toDouble(kernel.data());
        if (mask != null) {
            for (int i = 0; i < effectiveKernel.length; i++) {
                effectiveKernel[i] *= mask.data()[i]; // as flax: kernel * mask, so Inf * 0 is NaN here too
            }
        }
        NaiveConv.Result reference = Reference.forward(Tolerance.toDouble(x.data()), x.shape(), effectiveKernel,
                kernel.shape(), bias == null ? null : Tolerance.toDouble(bias.data()), config.strides(),
                config.inputDilation(), config.kernelDilation(), config.padding(), config.groups());
        assertArrayEquals(reference.shape(), y.shape(), config.toString());
        int nonFinite = 0;
        for (int i = 0; i < y.size(); i++) {
            double expected = reference.values()[i];
            float actual = y.data()[i];
            boolean same;
            if (Double.isNaN(expected)) {
                same = Float.isNaN(actual);
            } else if (Double.isInfinite(expected)) {
                same = actual == expected;
            } else {
                same = Math.abs(actual - expected) <= Tolerance.RELATIVE * reference.absSums()[i] + 1e-30;
            }
            if (!same) {
                fail(config + ": output " + i + " is " + actual + ", the reference gives " + expected);
            }
            nonFinite += Float.isFinite(actual) ? 0 : 1;
        }
        return nonFinite;
    }

    private static List<RandomConfig> configs() {
        return LongStream.range(0, CONFIGS).mapToObj(RandomConfig::generate).toList();
    }

    /** True when every product the reference forms reads a real input element: no zero padding, no dilation. */
    private static boolean multipliesNoImplicitZeros(RandomConfig config) {
        for (int dilation : config.inputDilation()) {
            if (dilation != 1) {
                return false;
            }
        }
        ConvGeometry g = ConvSpec.builder().strides(config.strides()).inputDilation(config.inputDilation())
                .kernelDilation(config.kernelDilation()).padding(config.padding()).groups(config.groups()).build()
                .resolve(config.inputShape(), config.kernelShape());
        if (g.edgeMode() != EdgeMode.ZERO) {
            return true;
        }
        for (int d = 0; d < g.rank(); d++) {
            if (g.padLo()[d] > 0 || g.padHi()[d] > 0) {
                return false;
            }
        }
        return true;
    }

    /** Overwrites {@code count} random elements with NaN, +Inf or -Inf. */
    private static void sprinkle(SplittableRandom random, float[] values, int count) {
        for (int i = 0; i < count && values.length > 0; i++) {
            values[random.nextInt(values.length)] = SPECIAL[random.nextInt(SPECIAL.length)];
        }
    }

    /** About a quarter of the weights set to exactly zero. */
    private static Tensor withZeros(SplittableRandom random, Tensor kernel) {
        float[] values = kernel.data();
        for (int i = 0; i < values.length; i++) {
            if (random.nextInt(4) == 0) {
                values[i] = 0f;
            }
        }
        return kernel;
    }

    private static Tensor bias(SplittableRandom random, RandomConfig config) {
        return config.bias() ? RandomTensors.uniform(random, config.kernelShape()[config.rank() + 1]) : null;
    }

    private static Tensor maskOf(SplittableRandom random, int[] shape) {
        float[] values = new float[(int) Tensor.elementCount(shape)];
        for (int i = 0; i < values.length; i++) {
            values[i] = random.nextInt(3) == 0 ? 0f : 1f;
        }
        return Tensor.of(values, shape);
    }
}
