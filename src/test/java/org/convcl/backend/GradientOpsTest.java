package org.convcl.backend;

import org.convcl.nn.Backends;
import org.convcl.backend.cpu.CpuBackend;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.convcl.nn.Conv;
import org.convcl.ConvGeometry;
import org.convcl.nn.ConvGradients;
import org.convcl.EdgeMode;
import org.convcl.EdgePadding;
import org.convcl.Tensor;
import org.convcl.testing.OpenClTesting;
import org.convcl.testing.RandomConfigs;
import org.convcl.testing.RandomConfigs.ConvConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The backend operations of the backward pass, each against its definition: kernel and bias gradient
 * reductions, and the EdgePadding pad / fold pair (fold must be pad's adjoint). Every backend in
 * {@link #backends()} runs them.
 */
class GradientOpsTest {

    /**
     * The backends under test: the Java path, and OpenCL (the shared backend of the best device) when present.
     * Backends are AutoCloseable, so every parameterised test here sets autoCloseArguments = false: JUnit would
     * otherwise close each argument after its case, which these shared backends refuse.
     */
    static Stream<ConvBackend> backends() {
        Stream<ConvBackend> openCl = OpenClTesting.deviceIfAny().stream().map(Backends::openClBackend);
        return Stream.concat(Stream.of(CpuBackend.instance()), openCl);
    }

    static Stream<Arguments> backendsAndSeeds() {
        return backends().flatMap(backend -> IntStream.range(0, 40).mapToObj(seed -> Arguments.of(backend, seed)));
    }

    @ParameterizedTest(name = "{0} seed {1}", autoCloseArguments = false)
    @MethodSource("backendsAndSeeds")
    void kernelGradientIsTheSumOfInputTimesOutputGradient(ConvBackend backend, int seed) {
        Random random = new Random(seed);
        ConvConfig config = RandomConfigs.conv(random);
        ConvGeometry g = config.spec().resolve(config.xShape(), config.wShape());
        float[] x = RandomConfigs.values(random, (int) Tensor.elementCount(g.inputShape()));
        float[] dy = RandomConfigs.values(random, (int) Tensor.elementCount(g.outputShape()));
        float[] dk = new float[(int) Tensor.elementCount(g.kernelShape())];
        Arrays.fill(dk, Float.NaN);
        backend.kernelGradient(g, x, dy, dk);

        // The definition, term by term, over the per-dim source tables.
        int rank = g.rank();
        int[][] tables = new int[rank][];
        for (int d = 0; d < rank; d++) {
            tables[d] = g.sourceIndexTable(d);
        }
        int[] k = g.kernelSpatial();
        int[] out = g.outSpatial();
        int[] in = g.inSpatial();
        int cin = g.inChannels();
        int cout = g.outChannels();
        int cinG = g.inChannelsPerGroup();
        int coutG = g.outChannelsPerGroup();
        double[] expected = new double[dk.length];
        double[] scale = new double[dk.length];
        for (int b = 0; b < g.batch(); b++) {
            for (int o = 0; o < g.outputSpatialSize(); o++) {
                for (int t = 0; t < g.kernelTaps(); t++) {
                    int source = 0;
                    for (int d = 0, oRest = o, tRest = t, oDiv = g.outputSpatialSize(), tDiv = g.kernelTaps();
                            d < rank && source >= 0; d++) {
                        oDiv /= out[d];
                        tDiv /= k[d];
                        int index = tables[d][(oRest / oDiv) * k[d] + tRest / tDiv];
                        oRest %= oDiv;
                        tRest %= tDiv;
                        source = index < 0 ? -1 : source * in[d] + index;
                    }
                    if (source < 0) {
                        continue;
                    }
                    for (int co = 0; co < cout; co++) {
                        int group = co / coutG;
                        for (int ci = 0; ci < cinG; ci++) {
                            double term = x[(b * g.inputSpatialSize() + source) * cin + group * cinG + ci]
                                    * (double) dy[(b * g.outputSpatialSize() + o) * cout + co];
                            expected[(t * cinG + ci) * cout + co] += term;
                            scale[(t * cinG + ci) * cout + co] += Math.abs(term);
                        }
                    }
                }
            }
        }
        for (int j = 0; j < dk.length; j++) {
            assertTrue(Math.abs(dk[j] - expected[j]) <= 1e-6 * scale[j] + 1e-30,
                    config + ": dkernel[" + j + "] = " + dk[j] + ", expected " + expected[j]);
        }
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("backends")
    void kernelGradientStaysAccurateOverLongReductions(ConvBackend backend) {
        // A 1x1 kernel over 2^21 positions of ones: dK is the plain sum of dy, which a float running sum
        // would get wrong by far more than 1e-6 of the sum of |dy|. Offset values make the sum large.
        int positions = 1 << 21;
        ConvGeometry g = org.convcl.ConvSpec.builder().padding(org.convcl.Padding.VALID).build()
                .resolve(new int[] {positions, 1}, new int[] {1, 1, 1});
        float[] x = new float[positions];
        Arrays.fill(x, 1f);
        Random random = new Random(3);
        float[] dy = new float[positions];
        double sum = 0;
        double scale = 0;
        for (int i = 0; i < positions; i++) {
            dy[i] = 1f + random.nextFloat();
            sum += dy[i];
            scale += Math.abs(dy[i]);
        }
        float[] dk = new float[1];
        backend.kernelGradient(g, x, dy, dk);
        assertEquals(sum, dk[0], 1e-6 * scale);
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("backends")
    void kernelGradientWithNothingToSumIsZero(ConvBackend backend) {
        org.convcl.ConvSpec valid = org.convcl.ConvSpec.builder().padding(org.convcl.Padding.VALID).build();
        // An input shorter than the kernel (no output positions), and an empty batch.
        for (int[] inputShape : new int[][] {{2, 3, 4}, {0, 9, 4}}) {
            ConvGeometry g = valid.resolve(inputShape, new int[] {5, 4, 3});
            float[] dk = new float[(int) Tensor.elementCount(g.kernelShape())];
            Arrays.fill(dk, Float.NaN);
            backend.kernelGradient(g, new float[(int) Tensor.elementCount(inputShape)],
                    new float[(int) Tensor.elementCount(g.outputShape())], dk);
            assertArrayEquals(new float[dk.length], dk, Arrays.toString(inputShape));
        }
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("backends")
    void biasGradientSumsColumns(ConvBackend backend) {
        Random random = new Random(11);
        for (int rows : new int[] {0, 1, 7, 1000}) {
            float[] dy = RandomConfigs.values(random, rows * 5);
            float[] db = {Float.NaN, Float.NaN, Float.NaN, Float.NaN, Float.NaN};
            backend.biasGradient(rows, 5, dy, db);
            for (int c = 0; c < 5; c++) {
                double sum = 0;
                double scale = 0;
                for (int r = 0; r < rows; r++) {
                    sum += dy[r * 5 + c];
                    scale += Math.abs(dy[r * 5 + c]);
                }
                assertEquals(sum, db[c], 1e-6 * scale + 1e-30, "rows " + rows + " column " + c);
            }
        }
    }

    @ParameterizedTest(name = "{0} seed {1}", autoCloseArguments = false)
    @MethodSource("backendsAndSeeds")
    void padCopiesSourcesAndFoldIsItsAdjoint(ConvBackend backend, int seed) {
        Random random = new Random(100 + seed);
        EdgePadding e = randomPadding(random);
        float[] source = RandomConfigs.values(random, (int) Tensor.elementCount(e.sourceShape()));
        float[] padded = new float[(int) Tensor.elementCount(e.paddedShape())];
        Arrays.fill(padded, Float.NaN);
        backend.pad(e, source, padded);

        float[] cotangent = RandomConfigs.values(random, padded.length);
        float[] folded = new float[source.length];
        Arrays.fill(folded, Float.NaN);
        backend.fold(e, cotangent, null, folded);

        int rank = e.rank();
        int[] sourceSpatial = e.sourceSpatial();
        int[] paddedSpatial = e.paddedSpatial();
        int channels = e.channels();
        int paddedPositions = padded.length / Math.max(1, e.batch() * channels);
        int sourcePositions = source.length / Math.max(1, e.batch() * channels);
        double[] expectedFold = new double[source.length];
        double[] foldScale = new double[source.length];
        for (int b = 0; b < e.batch(); b++) {
            for (int q = 0; q < paddedPositions; q++) {
                int from = 0;
                for (int d = 0, rest = q, div = paddedPositions; d < rank && from >= 0; d++) {
                    div /= paddedSpatial[d];
                    int index = e.mode().sourceIndex(rest / div - e.padLo()[d], sourceSpatial[d], 1);
                    rest %= div;
                    from = index < 0 ? -1 : from * sourceSpatial[d] + index;
                }
                for (int c = 0; c < channels; c++) {
                    int p = (b * paddedPositions + q) * channels + c;
                    if (from < 0) {
                        assertEquals(0f, padded[p], e + ": padded element " + p + " is a zero");
                    } else {
                        int s = (b * sourcePositions + from) * channels + c;
                        assertEquals(source[s], padded[p], e + ": padded element " + p + " copies " + s);
                        expectedFold[s] += cotangent[p];
                        foldScale[s] += Math.abs(cotangent[p]);
                    }
                }
            }
        }
        for (int s = 0; s < source.length; s++) {
            assertEquals(expectedFold[s], folded[s], 1e-6 * foldScale[s] + 1e-30, e + ": folded element " + s);
        }

        float[] bias = RandomConfigs.values(random, channels);
        float[] foldedWithBias = new float[source.length];
        backend.fold(e, cotangent, bias, foldedWithBias);
        for (int s = 0; s < source.length; s++) {
            assertEquals(expectedFold[s] + bias[s % channels], foldedWithBias[s],
                    1e-6 * (foldScale[s] + Math.abs(bias[s % channels])) + 1e-30, e + ": folded element " + s);
        }
    }

    @Test
    void aBackendWithOnlyForwardGetsGradientsFromTheDefaults() {
        ConvBackend forwardOnly = new ConvBackend() {
            @Override
            public String name() {
                return "forward-only";
            }

            @Override
            public void forward(ConvGeometry geometry, float[] input, float[] kernel, float[] bias, float[] output) {
                CpuBackend.instance().forward(geometry, input, kernel, bias, output);
            }

            @Override
            public void close() {
            }
        };
        Random random = new Random(5);
        for (int seed = 0; seed < 10; seed++) {
            ConvConfig config = RandomConfigs.conv(random);
            Tensor kernel = Tensor.of(RandomConfigs.values(random, (int) Tensor.elementCount(config.wShape())),
                    config.wShape());
            Tensor bias = Tensor.of(RandomConfigs.values(random, kernel.dim(kernel.rank() - 1)),
                    kernel.dim(kernel.rank() - 1));
            Tensor x = Tensor.of(RandomConfigs.values(random, (int) Tensor.elementCount(config.xShape())),
                    config.xShape());
            int[] yShape = config.spec().resolve(config.xShape(), config.wShape()).outputShape();
            Tensor dy = Tensor.of(RandomConfigs.values(random, (int) Tensor.elementCount(yShape)), yShape);
            ConvGradients expected = Conv.builder(kernel).bias(bias).spec(config.spec())
                    .backend(CpuBackend.instance()).build().backward(x, dy);
            ConvGradients actual = Conv.builder(kernel).bias(bias).spec(config.spec()).backend(forwardOnly).build()
                    .backward(x, dy);
            assertArrayEquals(expected.dx().data(), actual.dx().data(), config.toString());
            assertArrayEquals(expected.dkernel().data(), actual.dkernel().data(), config.toString());
            assertArrayEquals(expected.dbias().data(), actual.dbias().data(), config.toString());
        }
    }

    /** Any mode, rank 1-3, low padding from well below zero to past the source, padded up to a few periods long. */
    private static EdgePadding randomPadding(Random random) {
        int rank = 1 + random.nextInt(3);
        int[] source = new int[rank];
        int[] padded = new int[rank];
        int[] lo = new int[rank];
        for (int d = 0; d < rank; d++) {
            source[d] = 1 + random.nextInt(4);
            padded[d] = random.nextInt(4 * source[d] + 3);
            lo[d] = random.nextInt(2 * source[d] + 6) - source[d] - 3;
        }
        EdgeMode mode = EdgeMode.values()[random.nextInt(EdgeMode.values().length)];
        return new EdgePadding(1 + random.nextInt(2), 1 + random.nextInt(3), source, padded, lo, mode);
    }
}
