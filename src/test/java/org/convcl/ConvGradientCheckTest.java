package org.convcl;

import org.convcl.nn.ConvGradients;
import org.convcl.nn.Conv;
import java.util.Random;
import java.util.stream.IntStream;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.testing.BilinearReference;
import org.convcl.testing.ConvReference;
import org.convcl.testing.GradientCheck;
import org.convcl.testing.MaskedReference;
import org.convcl.testing.NaiveConv;
import org.convcl.testing.RandomConfigs;
import org.convcl.testing.RandomConfigs.ConvConfig;
import org.convcl.testing.Reference;
import org.convcl.testing.Tolerance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Conv.backward on random configurations of every knob, against float64 finite differences of the naive
 * reference, and the adjoint identities of the layer's two linear maps.
 */
class ConvGradientCheckTest {

    static IntStream seeds() {
        return IntStream.range(0, 80);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void gradientsMatchFiniteDifferences(int seed) {
        Random random = new Random(seed);
        ConvConfig config = RandomConfigs.conv(random);
        Fixture f = new Fixture(config, random, random.nextInt(3) == 0);
        ConvGradients grads = f.layer.backward(f.x, f.dy);
        BilinearReference reference = ConvReference.of(config);
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
        Random random = new Random(1000 + seed);
        ConvConfig config = RandomConfigs.conv(random);
        Fixture f = new Fixture(config, random, false);
        float[] y = f.layer.apply(f.x).data();
        ConvGradients grads = f.layer.backward(f.x, f.dy);
        double[] yMinusBias = Tolerance.toDouble(y);
        if (f.layer.bias() != null) {
            float[] bias = f.layer.bias().data();
            for (int i = 0; i < yMinusBias.length; i++) {
                yMinusBias[i] -= bias[i % bias.length];
            }
        }
        NaiveConv.Result reference = Reference.forward(Tolerance.toDouble(f.x.data()), config.xShape(),
                Tolerance.toDouble(f.layer.kernel().data()), config.wShape(), null, config.spec().strides(),
                config.spec().inputDilation(), config.spec().kernelDilation(), config.spec().padding(),
                config.spec().groups());
        GradientCheck.assertAdjoint(config.toString(), yMinusBias, reference.absSums(),
                Tolerance.toDouble(f.dy.data()), Tolerance.toDouble(f.x.data()), Tolerance.toDouble(grads.dx().data()),
                Tolerance.toDouble(f.layer.kernel().data()), Tolerance.toDouble(grads.dkernel().data()));
    }

    /** A random layer (bias on or off, optionally masked), input and cotangent for a configuration. */
    private static final class Fixture {
        final Conv layer;
        final Tensor x;
        final Tensor dy;

        Fixture(ConvConfig config, Random random, boolean masked) {
            int[] wShape = config.wShape();
            int kernelLength = (int) Tensor.elementCount(wShape);
            Tensor kernel = Tensor.of(RandomConfigs.values(random, kernelLength), wShape);
            int cout = wShape[wShape.length - 1];
            Tensor bias = random.nextBoolean() ? Tensor.of(RandomConfigs.values(random, cout), cout) : null;
            Tensor mask = masked ? Tensor.of(RandomConfigs.mask(random, kernelLength), wShape) : null;
            layer = Conv.builder(kernel).bias(bias).mask(mask).spec(config.spec()).backend(CpuBackend.instance())
                    .build();
            x = Tensor.of(RandomConfigs.values(random, (int) Tensor.elementCount(config.xShape())), config.xShape());
            int[] yShape = layer.geometry(config.xShape()).outputShape();
            dy = Tensor.of(RandomConfigs.values(random, (int) Tensor.elementCount(yShape)), yShape);
        }
    }
}
