package org.convcl;

import org.convcl.nn.Convolution;
import org.convcl.nn.Conv;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.LongStream;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.testing.NaiveConv;
import org.convcl.testing.RandomConfig;
import org.convcl.testing.RandomTensors;
import org.convcl.testing.Reference;
import org.convcl.testing.Tolerance;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Random configurations over every knob, computed by the library and by the tests' independent float64
 * naive convolution; they must agree within the golden suite's tolerance. Seeds are fixed: a failure names
 * its seed, and {@link RandomConfig#generate} rebuilds the case.
 */
class RandomizedConvTest {
    private static final int CONFIGS = 400;

    static List<RandomConfig> configs() {
        return LongStream.range(0, CONFIGS).mapToObj(RandomConfig::generate).toList();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void libraryAgreesWithNaiveReference(RandomConfig config) {
        SplittableRandom random = new SplittableRandom(config.seed() * 31 + 7);
        Tensor x = RandomTensors.uniform(random, config.inputShape());
        Tensor kernel = RandomTensors.uniform(random, config.kernelShape());
        Tensor bias = config.bias() ? RandomTensors.uniform(random, config.kernelShape()[config.rank() + 1]) : null;
        Tensor mask = config.mask() ? randomMask(random, config.kernelShape()) : null;
        ConvSpec spec = ConvSpec.builder().strides(config.strides()).inputDilation(config.inputDilation())
                .kernelDilation(config.kernelDilation()).padding(config.padding()).groups(config.groups()).build();

        Tensor y;
        if (mask == null && config.seed() % 2 == 0) {
            y = Convolution.conv(x, kernel, bias, spec, CpuBackend.instance());
        } else {
            y = Conv.builder(kernel).bias(bias).mask(mask).spec(spec).backend(CpuBackend.instance()).build()
                    .apply(x);
        }

        double[] effectiveKernel = Tolerance.toDouble(kernel.data());
        if (mask != null) {
            for (int i = 0; i < effectiveKernel.length; i++) {
                effectiveKernel[i] *= mask.data()[i];
            }
        }
        NaiveConv.Result reference = Reference.forward(Tolerance.toDouble(x.data()), x.shape(), effectiveKernel,
                kernel.shape(), bias == null ? null : Tolerance.toDouble(bias.data()), config.strides(),
                config.inputDilation(), config.kernelDilation(), config.padding(), config.groups());
        Tolerance.assertClose(config.toString(), reference.shape(), reference.values(), reference.absSums(),
                y.shape(), y.data());
    }

    /** Zeros, ones and arbitrary factors, as a mask may hold. */
    private static Tensor randomMask(SplittableRandom random, int[] shape) {
        Tensor mask = RandomTensors.uniform(random, shape);
        float[] values = mask.data();
        for (int i = 0; i < values.length; i++) {
            int kind = random.nextInt(3);
            values[i] = kind == 0 ? 0f : kind == 1 ? 1f : values[i] * 2;
        }
        return mask;
    }

    /** The generator must reach every knob, or the test above would silently cover less than it claims. */
    @Test
    void configurationsCoverEveryKnob() {
        List<RandomConfig> configs = configs();
        Set<Padding.Named> named = EnumSet.noneOf(Padding.Named.class);
        boolean[] ranks = new boolean[5];
        boolean[] batchDims = new boolean[3];
        boolean uniform = false;
        boolean negativePad = false;
        boolean zeroOutput = false;
        boolean zeroBatch = false;
        boolean groups = false;
        boolean inputDilation = false;
        boolean kernelDilation = false;
        boolean strides = false;
        boolean perDimList = false;
        boolean bias = false;
        boolean noBias = false;
        boolean mask = false;
        for (RandomConfig c : configs) {
            if (c.padding() instanceof Padding.Named n) {
                named.add(n);
            }
            uniform |= c.padding() instanceof Padding.Uniform;
            negativePad |= c.padding() instanceof Padding.Explicit e
                    && (java.util.Arrays.stream(e.lo()).min().orElse(0) < 0
                    || java.util.Arrays.stream(e.hi()).min().orElse(0) < 0);
            ranks[c.rank()] = true;
            batchDims[c.batchDims()] = true;
            ConvGeometry g = ConvSpec.builder().strides(c.strides()).inputDilation(c.inputDilation())
                    .kernelDilation(c.kernelDilation()).padding(c.padding()).groups(c.groups()).build()
                    .resolve(c.inputShape(), c.kernelShape());
            zeroOutput |= g.outputSpatialSize() == 0;
            zeroBatch |= g.batch() == 0;
            groups |= c.groups() > 1;
            inputDilation |= java.util.Arrays.stream(c.inputDilation()).max().orElse(1) > 1;
            kernelDilation |= java.util.Arrays.stream(c.kernelDilation()).max().orElse(1) > 1;
            strides |= java.util.Arrays.stream(c.strides()).max().orElse(1) > 1;
            perDimList |= c.rank() > 1 && c.strides().length == c.rank();
            bias |= c.bias();
            noBias |= !c.bias();
            mask |= c.mask();
        }
        assertTrue(named.equals(EnumSet.allOf(Padding.Named.class)), "every named padding: " + named);
        for (int rank = 1; rank <= 4; rank++) {
            assertTrue(ranks[rank], "rank " + rank);
        }
        for (int dims = 0; dims <= 2; dims++) {
            assertTrue(batchDims[dims], dims + " batch dims");
        }
        assertTrue(uniform && negativePad && zeroOutput && zeroBatch && groups && inputDilation && kernelDilation
                && strides && perDimList && bias && noBias && mask,
                "uniform " + uniform + ", negative pad " + negativePad + ", zero output " + zeroOutput
                        + ", zero batch " + zeroBatch + ", groups " + groups + ", input dilation " + inputDilation
                        + ", kernel dilation " + kernelDilation + ", strides " + strides + ", per-dim lists "
                        + perDimList + ", bias " + bias + "/" + noBias + ", mask " + mask);
    }
}
