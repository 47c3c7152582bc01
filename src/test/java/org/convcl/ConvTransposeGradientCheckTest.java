package org.convcl;

import org.convcl.nn.ConvTranspose;
import org.convcl.nn.ConvGradients;
import java.util.Random;
import java.util.stream.IntStream;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.testing.BilinearReference;
import org.convcl.testing.ConvTransposeReference;
import org.convcl.testing.GradientCheck;
import org.convcl.testing.MaskedReference;
import org.convcl.testing.NaiveConv;
import org.convcl.testing.RandomConfigs;
import org.convcl.testing.RandomConfigs.TransposeConfig;
import org.convcl.testing.Tolerance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * ConvTranspose on random configurations (SAME, VALID, CIRCULAR, SAME_LOWER, ints, pairs; transposed kernels;
 * masks): its output against the float64 reference, its gradients against finite differences of that
 * reference, and the adjoint identities.
 */
class ConvTransposeGradientCheckTest {

    static IntStream seeds() {
        return IntStream.range(0, 60);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void outputMatchesReference(int seed) {
        Random random = new Random(2000 + seed);
        TransposeConfig config = RandomConfigs.transpose(random);
        Fixture f = new Fixture(config, random, random.nextBoolean());
        Tensor y = f.layer.apply(f.x);
        // A masked layer multiplies by kernel * mask, which is what the reference must see.
        NaiveConv.Result reference = f.reference(config).forward(Tolerance.toDouble(f.x.data()),
                Tolerance.toDouble(f.layer.effectiveKernel()),
                f.layer.bias() == null ? null : Tolerance.toDouble(f.layer.bias().data()));
        Tolerance.assertClose(config.toString(), reference.shape(), reference.values(), reference.absSums(),
                y.shape(), y.data());
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void gradientsMatchFiniteDifferences(int seed) {
        Random random = new Random(3000 + seed);
        TransposeConfig config = RandomConfigs.transpose(random);
        Fixture f = new Fixture(config, random, random.nextInt(3) == 0);
        ConvGradients grads = f.layer.backward(f.x, f.dy);
        BilinearReference reference = f.reference(config);
        if (f.layer.mask() != null) {
            reference = new MaskedReference(reference, Tolerance.toDouble(f.layer.mask().data()));
        }
        GradientCheck.assertGradients(config.toString(), reference, Tolerance.toDouble(f.x.data()),
                Tolerance.toDouble(f.layer.kernel().data()), Tolerance.toDouble(f.dy.data()),
                f.layer.bias() != null, grads, random);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void adjointIdentitiesHold(int seed) {
        Random random = new Random(4000 + seed);
        TransposeConfig config = RandomConfigs.transpose(random);
        Fixture f = new Fixture(config, random, false);
        double[] yMinusBias = Tolerance.toDouble(f.layer.apply(f.x).data());
        if (f.layer.bias() != null) {
            float[] bias = f.layer.bias().data();
            for (int i = 0; i < yMinusBias.length; i++) {
                yMinusBias[i] -= bias[i % bias.length];
            }
        }
        ConvGradients grads = f.layer.backward(f.x, f.dy);
        NaiveConv.Result reference = f.reference(config).forward(Tolerance.toDouble(f.x.data()),
                Tolerance.toDouble(f.layer.kernel().data()), null);
        GradientCheck.assertAdjoint(config.toString(), yMinusBias, reference.absSums(),
                Tolerance.toDouble(f.dy.data()), Tolerance.toDouble(f.x.data()), Tolerance.toDouble(grads.dx().data()),
                Tolerance.toDouble(f.layer.kernel().data()), Tolerance.toDouble(grads.dkernel().data()));
    }

    /** A random layer (bias on or off, optionally masked), input and cotangent for a configuration. */
    private static final class Fixture {
        final ConvTranspose layer;
        final Tensor x;
        final Tensor dy;

        Fixture(TransposeConfig config, Random random, boolean masked) {
            int[] wShape = config.wShape();
            int rank = wShape.length - 2;
            int kernelLength = (int) Tensor.elementCount(wShape);
            Tensor kernel = Tensor.of(RandomConfigs.values(random, kernelLength), wShape);
            int cout = wShape[config.spec().transposeKernel() ? rank : rank + 1];
            Tensor bias = random.nextBoolean() ? Tensor.of(RandomConfigs.values(random, cout), cout) : null;
            Tensor mask = masked ? Tensor.of(RandomConfigs.mask(random, kernelLength), wShape) : null;
            layer = ConvTranspose.builder(kernel).bias(bias).mask(mask).spec(config.spec())
                    .backend(CpuBackend.instance()).build();
            x = Tensor.of(RandomConfigs.values(random, (int) Tensor.elementCount(config.xShape())), config.xShape());
            int[] yShape = layer.geometry(config.xShape()).outputShape();
            dy = Tensor.of(RandomConfigs.values(random, (int) Tensor.elementCount(yShape)), yShape);
        }

        ConvTransposeReference reference(TransposeConfig config) {
            ConvTransposeSpec spec = config.spec();
            return new ConvTransposeReference(config.xShape(), config.wShape(), spec.strides(), spec.kernelDilation(),
                    spec.padding(), spec.transposeKernel());
        }
    }
}
