package org.convcl.examples;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A torchvision ResNet's layers as its state_dict names them, with the shapes their tensors must have: what
 * {@link ResNetWeights} checks a folder against and what {@link ResNet} builds. {@code width} is the stem's channels
 * (torchvision's 64; smaller in tests), {@code classes} the final linear layer's outputs (1000 for ImageNet).
 */
public record ResNetPlan(ResNetArch arch, int width, int classes, ConvLayer stem, List<Block> blocks) {
    /** torchvision's BatchNorm2d default; PyTorch adds it to the running variance. */
    public static final double BATCH_NORM_EPS = 1e-5;

    /**
     * A convolution without bias followed by a batch norm: {@code weight} is the state_dict name of the
     * {@code (out, in, kernel, kernel)} weight, {@code norm} the prefix of the norm's {@code weight}, {@code bias},
     * {@code running_mean} and {@code running_var} (each {@code (out)}); PyTorch's padding {@code kernel / 2}.
     */
    public record ConvLayer(String weight, String norm, int out, int in, int kernel, int stride) {
        public int padding() {
            return kernel / 2;
        }
    }

    /** A residual block: the main path's convolutions in order, and the shortcut's 1x1 one, or null for identity. */
    public record Block(String name, List<ConvLayer> path, ConvLayer downsample) {
    }

    /** The plan of {@code arch} with a stem of {@code width} channels and {@code classes} outputs. */
    public static ResNetPlan of(ResNetArch arch, int width, int classes) {
        if (width < 1 || classes < 1) {
            throw new IllegalArgumentException("ResNet: width " + width + " and classes " + classes
                    + " must both be >= 1");
        }
        ConvLayer stem = new ConvLayer("conv1.weight", "bn1", width, 3, 7, 2);
        List<Block> blocks = new ArrayList<>();
        int channels = width;
        for (int stage = 0; stage < 4; stage++) {
            int planes = width << stage;
            int outChannels = planes * arch.expansion();
            for (int b = 0; b < arch.stageBlocks().get(stage); b++) {
                String name = "layer" + (stage + 1) + "." + b + ".";
                int stride = b == 0 && stage > 0 ? 2 : 1;
                List<ConvLayer> path = arch.bottleneck()
                        ? List.of(new ConvLayer(name + "conv1.weight", name + "bn1", planes, channels, 1, 1),
                                new ConvLayer(name + "conv2.weight", name + "bn2", planes, planes, 3, stride),
                                new ConvLayer(name + "conv3.weight", name + "bn3", outChannels, planes, 1, 1))
                        : List.of(new ConvLayer(name + "conv1.weight", name + "bn1", planes, channels, 3, stride),
                                new ConvLayer(name + "conv2.weight", name + "bn2", planes, planes, 3, 1));
                ConvLayer downsample = stride != 1 || channels != outChannels
                        ? new ConvLayer(name + "downsample.0.weight", name + "downsample.1", outChannels, channels,
                                1, stride)
                        : null;
                blocks.add(new Block(name.substring(0, name.length() - 1), path, downsample));
                channels = outChannels;
            }
        }
        return new ResNetPlan(arch, width, classes, stem, List.copyOf(blocks));
    }

    /** The channels the final linear layer reads. */
    public int features() {
        return arch.features(width);
    }

    /** Every tensor the network needs, state_dict name to shape, in the network's order. */
    public Map<String, int[]> tensorShapes() {
        Map<String, int[]> shapes = new LinkedHashMap<>();
        addConv(shapes, stem);
        for (Block block : blocks) {
            block.path().forEach(layer -> addConv(shapes, layer));
            if (block.downsample() != null) {
                addConv(shapes, block.downsample());
            }
        }
        shapes.put("fc.weight", new int[] {classes, features()});
        shapes.put("fc.bias", new int[] {classes});
        return shapes;
    }

    private static void addConv(Map<String, int[]> shapes, ConvLayer layer) {
        shapes.put(layer.weight(), new int[] {layer.out(), layer.in(), layer.kernel(), layer.kernel()});
        for (String part : new String[] {"weight", "bias", "running_mean", "running_var"}) {
            shapes.put(layer.norm() + "." + part, new int[] {layer.out()});
        }
    }
}
