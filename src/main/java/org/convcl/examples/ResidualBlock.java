package org.convcl.examples;

import java.util.ArrayList;
import java.util.List;
import org.convcl.Activation;
import org.convcl.Tensor;
import org.convcl.nn.Conv;
import org.convcl.opencl.DeviceTensor;

/**
 * One residual block of a ResNet, basic (3x3, 3x3) or bottleneck (1x1, 3x3, 1x1): every convolution of the main
 * path carries its folded batch norm and ReLU; the last one adds the shortcut in its store before its ReLU
 * ({@code relu(conv(x) * scale + shift + shortcut)}, {@link Conv#apply(Tensor, Tensor, Tensor)}), so the block has no pass
 * of its own. The shortcut is the block's input, or a strided 1x1 convolution with its folded norm (downsample).
 */
final class ResidualBlock implements AutoCloseable {
    private final String name;
    private final List<Conv> path;
    private final Conv downsample;

    private ResidualBlock(String name, List<Conv> path, Conv downsample) {
        this.name = name;
        this.path = path;
        this.downsample = downsample;
    }

    static ResidualBlock build(ResNetPlan.Block plan, FoldedConvs convs) {
        List<Conv> path = new ArrayList<>();
        for (ResNetPlan.ConvLayer layer : plan.path()) {
            path.add(convs.convNorm(layer, Activation.relu()));
        }
        Conv downsample = plan.downsample() == null ? null
                : convs.convNorm(plan.downsample(), Activation.identity());
        return new ResidualBlock(plan.name(), List.copyOf(path), downsample);
    }

    /**
     * The block on host tensors, every output in an array taken from {@code activations}: the result is one the
     * caller gives back; {@code x} stays the caller's. Each intermediate goes back as soon as the layer after it
     * has read it, so at most the input, the last two of the main path, the shortcut and the output are in use.
     */
    Tensor forward(Tensor x, ActivationBuffers activations) {
        Tensor h = x;
        for (int i = 0; i < path.size() - 1; i++) {
            Tensor next = activations.take(path.get(i).outputShape(h.shape()));
            path.get(i).apply(h, null, next);
            if (h != x) {
                activations.give(h);
            }
            h = next;
        }
        Tensor shortcut = x;
        if (downsample != null) {
            shortcut = activations.take(downsample.outputShape(x.shape()));
            downsample.apply(x, null, shortcut);
        }
        Conv last = path.get(path.size() - 1);
        Tensor out = activations.take(last.outputShape(h.shape()));
        last.apply(h, shortcut, out);
        if (h != x) {
            activations.give(h);
        }
        if (shortcut != x) {
            activations.give(shortcut);
        }
        return out;
    }

    /**
     * The block on the device, as a new tensor of {@code x}'s type (the layers') that the caller closes; {@code x}
     * stays the caller's. Each intermediate
     * is closed as soon as the next layer has been enqueued on it, so that its memory goes back to the pool.
     */
    DeviceTensor forward(DeviceTensor x) {
        DeviceTensor h = null;
        try {
            for (int i = 0; i < path.size() - 1; i++) {
                DeviceTensor next = path.get(i).apply(h == null ? x : h);
                if (h != null) {
                    h.close();
                }
                h = next;
            }
            Conv last = path.get(path.size() - 1);
            DeviceTensor out = DeviceTensor.allocate(x.backend(), x.dtype(), last.outputShape(h.shape()));
            try (DeviceTensor projected = downsample == null ? null : downsample.apply(x)) {
                last.apply(h, projected == null ? x : projected, out);
            } catch (RuntimeException e) {
                out.close();
                throw e;
            }
            return out;
        } finally {
            if (h != null) {
                h.close();
            }
        }
    }

    /** The block's convolutions, main path first, for a look at the layers. */
    List<Conv> convs() {
        List<Conv> all = new ArrayList<>(path);
        if (downsample != null) {
            all.add(downsample);
        }
        return all;
    }

    @Override
    public void close() {
        path.forEach(Conv::close);
        if (downsample != null) {
            downsample.close();
        }
    }

    @Override
    public String toString() {
        return name;
    }
}
