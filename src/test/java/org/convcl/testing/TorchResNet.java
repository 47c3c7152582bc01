package org.convcl.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.convcl.Tensor;
import org.convcl.internal.Json;
import org.convcl.io.Npy;

/**
 * torchvision's ResNet (models/resnet.py: BasicBlock, Bottleneck with the stride on its 3x3, downsample = 1x1
 * strided conv + batch norm) in float64, NCHW, written from PyTorch's definitions and independently of
 * {@code org.convcl.examples}: random parameters under the state_dict's names, the batch norms unfolded in eval
 * mode ({@code (y - mean) / sqrt(var + 1e-5) * gamma + beta}), and a folder in {@code scripts/export-resnet}'s
 * format, so that tests run the network without Python. {@link #forward} records every convolution with its
 * norm, activation and residual as one step, in the order the network applies them (a block's shortcut after
 * its main path), for a check layer by layer.
 */
public final class TorchResNet {
    private static final double EPS = 1e-5;

    /** A parameter, its values float32-exact (the files hold float32), and its shape. */
    public record Param(double[] values, int[] shape) {
    }

    /** A conv + norm (+ residual) (+ ReLU) step: input NCHW, residual or null, output NCHW. */
    public record Step(String conv, double[] input, int[] inputShape, double[] residual, double[] output,
            int[] outputShape) {
    }

    /** The logits {@code (N, classes)} and the steps that led there. */
    public record Trace(double[] logits, int[] logitsShape, List<Step> steps) {
    }

    private final String arch;
    private final boolean bottleneck;
    private final int[] stageBlocks;
    private final int width;
    private final int classes;
    private final Map<String, Param> params = new LinkedHashMap<>();

    private TorchResNet(String arch, int width, int classes, SplittableRandom random) {
        this.arch = arch;
        this.bottleneck = arch.equals("resnet50");
        this.stageBlocks = bottleneck ? new int[] {3, 4, 6, 3} : new int[] {2, 2, 2, 2};
        this.width = width;
        this.classes = classes;
        conv(random, "conv1", width, 3, 7);
        norm(random, "bn1", width);
        int expansion = bottleneck ? 4 : 1;
        int inplanes = width;
        for (int stage = 0; stage < 4; stage++) {
            int planes = width << stage;
            for (int b = 0; b < stageBlocks[stage]; b++) {
                String p = "layer" + (stage + 1) + "." + b + ".";
                if (bottleneck) {
                    conv(random, p + "conv1", planes, inplanes, 1);
                    norm(random, p + "bn1", planes);
                    conv(random, p + "conv2", planes, planes, 3);
                    norm(random, p + "bn2", planes);
                    conv(random, p + "conv3", planes * expansion, planes, 1);
                    norm(random, p + "bn3", planes * expansion);
                } else {
                    conv(random, p + "conv1", planes, inplanes, 3);
                    norm(random, p + "bn1", planes);
                    conv(random, p + "conv2", planes, planes, 3);
                    norm(random, p + "bn2", planes);
                }
                if (b == 0 && (stage > 0 || inplanes != planes * expansion)) {
                    conv(random, p + "downsample.0", planes * expansion, inplanes, 1);
                    norm(random, p + "downsample.1", planes * expansion);
                }
                inplanes = planes * expansion;
            }
        }
        double bound = 1 / Math.sqrt(inplanes);
        params.put("fc.weight", uniform(random, -bound, bound, classes, inplanes));
        params.put("fc.bias", uniform(random, -bound, bound, classes));
    }

    /** torchvision's {@code arch} (resnet18 or resnet50) with a stem of {@code width} channels, random parameters. */
    public static TorchResNet random(String arch, int width, int classes, long seed) {
        return new TorchResNet(arch, width, classes, new SplittableRandom(seed));
    }

    public Map<String, Param> params() {
        return params;
    }

    /**
     * Writes the folder {@code convcl resnet} reads: every parameter, {@code images} as input.npy, their float64
     * logits rounded to float32 as logits.npy, and the manifest.
     */
    public void writeFolder(Path folder, Tensor images) throws IOException {
        Files.createDirectories(folder);
        Map<String, Object> shapes = new LinkedHashMap<>();
        for (Map.Entry<String, Param> param : params.entrySet()) {
            Npy.write(folder.resolve(param.getKey() + ".npy"), toTensor(param.getValue().values(),
                    param.getValue().shape()));
            shapes.put(param.getKey(), Arrays.stream(param.getValue().shape()).boxed().toList());
        }
        Trace trace = forward(toDoubles(images), images.shape());
        Npy.write(folder.resolve("input.npy"), images);
        Npy.write(folder.resolve("logits.npy"), toTensor(trace.logits(), trace.logitsShape()));
        Map<String, Object> manifest = new LinkedHashMap<>();
        manifest.put("format", "convcl-resnet-1");
        manifest.put("arch", arch);
        manifest.put("num_classes", classes);
        manifest.put("width", width);
        manifest.put("input_shape", Arrays.stream(images.shape()).boxed().toList());
        manifest.put("tensors", shapes);
        Files.writeString(folder.resolve("manifest.json"), Json.write(manifest) + "\n");
    }

    /** The network on {@code x} (N, 3, H, W), every step recorded. */
    public Trace forward(double[] x, int[] shape) {
        List<Step> steps = new ArrayList<>();
        Act h = convNorm(steps, "conv1", "bn1", new Act(x, shape), 2, 3, null, true);
        h = maxPool(h);
        int expansion = bottleneck ? 4 : 1;
        for (int stage = 0; stage < 4; stage++) {
            for (int b = 0; b < stageBlocks[stage]; b++) {
                String p = "layer" + (stage + 1) + "." + b + ".";
                int stride = b == 0 && stage > 0 ? 2 : 1;
                List<Step> shortcutSteps = new ArrayList<>();
                Act identity = params.containsKey(p + "downsample.0.weight")
                        ? convNorm(shortcutSteps, p + "downsample.0", p + "downsample.1", h, stride, 0, null, false)
                        : h;
                Act out;
                if (bottleneck) {
                    out = convNorm(steps, p + "conv1", p + "bn1", h, 1, 0, null, true);
                    out = convNorm(steps, p + "conv2", p + "bn2", out, stride, 1, null, true);
                    out = convNorm(steps, p + "conv3", p + "bn3", out, 1, 0, identity, true);
                } else {
                    out = convNorm(steps, p + "conv1", p + "bn1", h, stride, 1, null, true);
                    out = convNorm(steps, p + "conv2", p + "bn2", out, 1, 1, identity, true);
                }
                steps.addAll(shortcutSteps);
                h = out;
            }
        }
        assert expansion > 0;
        Act pooled = averagePool(h);
        Param weight = params.get("fc.weight");
        Param bias = params.get("fc.bias");
        int n = shape[0];
        int features = pooled.shape[1];
        double[] logits = new double[n * classes];
        for (int b = 0; b < n; b++) {
            for (int k = 0; k < classes; k++) {
                double sum = bias.values()[k];
                for (int f = 0; f < features; f++) {
                    sum += weight.values()[k * features + f] * pooled.values[b * features + f];
                }
                logits[b * classes + k] = sum;
            }
        }
        steps.add(new Step("fc", pooled.values, pooled.shape, null, logits, new int[] {n, classes, 1, 1}));
        return new Trace(logits, new int[] {n, classes}, steps);
    }

    private record Act(double[] values, int[] shape) {
    }

    /** relu?(bn(conv(x)) + residual), PyTorch's order: the norm on the convolution, the add, then the ReLU. */
    private Act convNorm(List<Step> steps, String conv, String norm, Act x, int stride, int pad, Act residual,
            boolean relu) {
        Param w = params.get(conv + ".weight");
        int n = x.shape[0];
        int cin = x.shape[1];
        int ih = x.shape[2];
        int iw = x.shape[3];
        int cout = w.shape()[0];
        int k = w.shape()[2];
        int oh = (ih + 2 * pad - k) / stride + 1;
        int ow = (iw + 2 * pad - k) / stride + 1;
        double[] gamma = params.get(norm + ".weight").values();
        double[] beta = params.get(norm + ".bias").values();
        double[] mean = params.get(norm + ".running_mean").values();
        double[] var = params.get(norm + ".running_var").values();
        double[] y = new double[n * cout * oh * ow];
        for (int b = 0; b < n; b++) {
            for (int o = 0; o < cout; o++) {
                for (int oy = 0; oy < oh; oy++) {
                    for (int ox = 0; ox < ow; ox++) {
                        double sum = 0;
                        for (int c = 0; c < cin; c++) {
                            for (int ky = 0; ky < k; ky++) {
                                int yy = oy * stride - pad + ky;
                                if (yy < 0 || yy >= ih) {
                                    continue;
                                }
                                for (int kx = 0; kx < k; kx++) {
                                    int xx = ox * stride - pad + kx;
                                    if (xx >= 0 && xx < iw) {
                                        sum += w.values()[((o * cin + c) * k + ky) * k + kx]
                                                * x.values[((b * cin + c) * ih + yy) * iw + xx];
                                    }
                                }
                            }
                        }
                        int at = ((b * cout + o) * oh + oy) * ow + ox;
                        double v = (sum - mean[o]) / Math.sqrt(var[o] + EPS) * gamma[o] + beta[o];
                        if (residual != null) {
                            v += residual.values[at];
                        }
                        y[at] = relu ? Math.max(v, 0) : v;
                    }
                }
            }
        }
        int[] outShape = {n, cout, oh, ow};
        steps.add(new Step(conv, x.values, x.shape, residual == null ? null : residual.values, y, outShape));
        return new Act(y, outShape);
    }

    /** PyTorch's MaxPool2d(3, 2, padding 1): the padding never wins. */
    private static Act maxPool(Act x) {
        int n = x.shape[0];
        int c = x.shape[1];
        int ih = x.shape[2];
        int iw = x.shape[3];
        int oh = (ih + 2 - 3) / 2 + 1;
        int ow = (iw + 2 - 3) / 2 + 1;
        double[] y = new double[n * c * oh * ow];
        for (int p = 0; p < n * c; p++) {
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    double best = Double.NEGATIVE_INFINITY;
                    for (int dy = 0; dy < 3; dy++) {
                        for (int dx = 0; dx < 3; dx++) {
                            int yy = oy * 2 - 1 + dy;
                            int xx = ox * 2 - 1 + dx;
                            if (yy >= 0 && yy < ih && xx >= 0 && xx < iw) {
                                best = Math.max(best, x.values[(p * ih + yy) * iw + xx]);
                            }
                        }
                    }
                    y[(p * oh + oy) * ow + ox] = best;
                }
            }
        }
        return new Act(y, new int[] {n, c, oh, ow});
    }

    /** AdaptiveAvgPool2d((1, 1)): the mean over each channel's whole map. */
    private static Act averagePool(Act x) {
        int n = x.shape[0];
        int c = x.shape[1];
        int area = x.shape[2] * x.shape[3];
        double[] y = new double[n * c];
        for (int p = 0; p < n * c; p++) {
            double sum = 0;
            for (int i = 0; i < area; i++) {
                sum += x.values[p * area + i];
            }
            y[p] = sum / area;
        }
        return new Act(y, new int[] {n, c, 1, 1});
    }

    private void conv(SplittableRandom random, String name, int out, int in, int k) {
        // He-uniform, so that activations keep their scale through the blocks.
        double bound = Math.sqrt(6.0 / (in * k * k));
        params.put(name + ".weight", uniform(random, -bound, bound, out, in, k, k));
    }

    private void norm(SplittableRandom random, String name, int channels) {
        params.put(name + ".weight", uniform(random, 0.5, 1.5, channels));
        params.put(name + ".bias", uniform(random, -0.2, 0.2, channels));
        params.put(name + ".running_mean", uniform(random, -0.2, 0.2, channels));
        params.put(name + ".running_var", uniform(random, 0.5, 2.0, channels));
    }

    private static Param uniform(SplittableRandom random, double lo, double hi, int... shape) {
        double[] values = new double[(int) Tensor.elementCount(shape)];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextDouble(lo, hi);
        }
        return new Param(values, shape);
    }

    public static double[] toDoubles(Tensor t) {
        float[] data = t.data();
        double[] values = new double[data.length];
        for (int i = 0; i < data.length; i++) {
            values[i] = data[i];
        }
        return values;
    }

    public static Tensor toTensor(double[] values, int[] shape) {
        float[] data = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            data[i] = (float) values[i];
        }
        return Tensor.of(data, shape);
    }
}
