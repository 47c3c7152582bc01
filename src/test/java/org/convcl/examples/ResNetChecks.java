package org.convcl.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.convcl.DType;
import org.convcl.HalfFloats;
import org.convcl.Layout;
import org.convcl.Precision;
import org.convcl.Tensor;
import org.convcl.backend.ConvBackend;
import org.convcl.nn.Conv;
import org.convcl.testing.RandomTensors;
import org.convcl.testing.TorchResNet;

/**
 * What the ResNet tests of both backends share: a small random ResNet's folder (a stem of {@value #WIDTH}
 * channels, {@value #CLASSES} classes, 2 images of 32x32) and the checks of {@link ResNet} against
 * {@link TorchResNet}'s float64 network, end to end and convolution by convolution.
 */
final class ResNetChecks {
    static final int WIDTH = 4;
    static final int CLASSES = 10;
    /** The target for the logits in float32. */
    static final double LOGITS_TOLERANCE = 1e-4;
    /**
     * A 16-bit network's logits against the float32 network's, in unit roundoffs u of the type (2^-11 for float16,
     * 2^-8 for bfloat16). This small network measured 1.2 u in float16 and 1.7 u in bfloat16 on the Java path
     * (its layers sum few products and its 10 logits 16 features, so little rounding piles up); 8 u leaves room
     * for other seeds and the device's order of summation while a second rounding at every layer would show. The
     * exported ResNet-50, 2048 features wide, measures 38 u and 32 u against float64: ResNetCommand's targets.
     */
    static final double HALF_LOGITS_UNITS = 8;
    /** One fused convolution in float32 against float64: a few roundings of sums over at most 7*7*3 products. */
    static final double LAYER_TOLERANCE = 1e-5;

    private ResNetChecks() {
    }

    /** A random torchvision {@code arch} written to {@code folder}, with its reference images and logits. */
    static TorchResNet writeFolder(Path folder, String arch, long seed) throws IOException {
        TorchResNet reference = TorchResNet.random(arch, WIDTH, CLASSES, seed);
        Tensor images = RandomTensors.uniform(new SplittableRandom(seed + 1), 2, 3, 32, 32);
        reference.writeFolder(folder, images);
        return reference;
    }

    /** The network's logits on the folder's images against PyTorch's (here the float64 reference's). */
    static Tensor assertLogitsMatch(ResNet net, ResNetWeights weights) {
        Tensor logits = net.forward(net.imagesInLayout(weights.referenceInput()));
        LogitsComparison comparison = LogitsComparison.of(logits, weights.referenceLogits());
        assertTrue(comparison.maxRelErr() <= LOGITS_TOLERANCE, net.layout() + " on " + net.backend().name()
                + ": max_rel_err " + comparison.maxRelErr());
        assertTrue(comparison.top5Agree(), "top-5 of every image: " + comparison);
        return logits;
    }

    /**
     * The network (in {@code dtype}) on the folder's images against {@code float32}'s logits, within
     * {@link #HALF_LOGITS_UNITS} unit roundoffs of the type; every logit is a value of the type (the classifier
     * rounds its output), and they are not float32's (a network that ignored the type would be). Returns the
     * 16-bit logits.
     */
    static Tensor assertHalfLogitsNear(ResNet net, Tensor float32, ResNetWeights weights) {
        DType dtype = net.dtype();
        Tensor logits = net.forward(net.imagesInLayout(weights.referenceInput()));
        for (float v : logits.data()) {
            assertEquals(v, HalfFloats.decode(dtype, HalfFloats.encode(dtype, v)),
                    "every logit is a " + dtype.cliName() + " value");
        }
        double err = LogitsComparison.of(logits, float32).maxRelErr();
        double unit = dtype == DType.FLOAT16 ? 0x1p-11 : 0x1p-8;
        assertTrue(err > 0 && err <= HALF_LOGITS_UNITS * unit, dtype.cliName() + " " + net.layout() + " on "
                + net.backend().name() + ": max_rel_err against float32 " + err + " (" + err / unit + " u)");
        return logits;
    }

    /**
     * Every convolution of the network, given the float64 network's input (and shortcut) for it rounded to
     * float32, against the float64 network's output for it: a wrong fold, stride, padding or residual is found
     * at the layer where it is.
     */
    static void assertEveryLayerMatches(ResNet net, TorchResNet reference, Tensor images) {
        TorchResNet.Trace trace = reference.forward(TorchResNet.toDoubles(images), images.shape());
        List<Conv> convs = net.convs();
        assertEquals(trace.steps().size(), convs.size(), "one convolution per step of torchvision's network");
        for (int i = 0; i < convs.size(); i++) {
            TorchResNet.Step step = trace.steps().get(i);
            Conv conv = convs.get(i);
            Tensor x = inLayout(net.layout(), step.input(), step.inputShape());
            Tensor expected = inLayout(net.layout(), step.output(), step.outputShape());
            Tensor got = step.residual() == null ? conv.apply(x)
                    : conv.apply(x, inLayout(net.layout(), step.residual(), step.outputShape()));
            assertEquals(List.of(expected.shape()[0], expected.shape()[1], expected.shape()[2],
                    expected.shape()[3]), List.of(got.shape()[0], got.shape()[1], got.shape()[2], got.shape()[3]),
                    step.conv() + ": output shape");
            double err = relativeError(got.data(), expected.data());
            assertTrue(err <= LAYER_TOLERANCE, step.conv() + " (" + net.layout() + "): max_rel_err " + err);
        }
    }

    static ResNet build(ResNetWeights weights, Layout layout, ConvBackend backend) {
        return ResNet.build(weights, layout, Precision.HIGHEST, backend);
    }

    static ResNet build(ResNetWeights weights, Layout layout, DType dtype, ConvBackend backend) {
        return ResNet.build(weights, layout, Precision.HIGHEST, dtype, backend);
    }

    /** NCHW values as a tensor in {@code layout}. */
    static Tensor inLayout(Layout layout, double[] nchw, int[] shape) {
        Tensor t = TorchResNet.toTensor(nchw, shape);
        if (layout == Layout.CHANNELS_FIRST) {
            return t;
        }
        int n = shape[0];
        int c = shape[1];
        int h = shape[2];
        int w = shape[3];
        float[] to = new float[t.size()];
        for (int b = 0; b < n; b++) {
            for (int ch = 0; ch < c; ch++) {
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        to[((b * h + y) * w + x) * c + ch] = t.data()[((b * c + ch) * h + y) * w + x];
                    }
                }
            }
        }
        return Tensor.of(to, n, h, w, c);
    }

    static double relativeError(float[] got, float[] expected) {
        double maxDiff = 0;
        double maxRef = 0;
        for (int i = 0; i < got.length; i++) {
            double diff = Math.abs((double) got[i] - expected[i]);
            maxDiff = Double.isNaN(diff) ? Double.NaN : Math.max(maxDiff, diff);
            maxRef = Math.max(maxRef, Math.abs(expected[i]));
        }
        return maxDiff / maxRef;
    }
}
