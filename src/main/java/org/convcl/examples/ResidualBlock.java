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
 * of its own, and writes that sum over the shortcut itself (the residual is the output), so a block holds no
 * array for its output beside its shortcut. The shortcut is the block's input, or a strided 1x1 convolution with
 * its folded norm (downsample).
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
        // The last convolution writes over the shortcut, which may be x: a path of one would read x while it does.
        if (plan.path().size() < 2) {
            throw new IllegalArgumentException("plan: block " + plan.name() + " has " + plan.path().size()
                    + " convolutions on its main path; a residual block has at least 2 (basic 2, bottleneck 3)");
        }
        List<Conv> path = new ArrayList<>();
        for (ResNetPlan.ConvLayer layer : plan.path()) {
            path.add(convs.convNorm(layer, Activation.relu()));
        }
        Conv downsample = plan.downsample() == null ? null
                : convs.convNorm(plan.downsample(), Activation.identity());
        return new ResidualBlock(plan.name(), List.copyOf(path), downsample);
    }

    /**
     * The block on host tensors, every output in an array taken from {@code activations}; consumes {@code x}: the
     * result, which the caller gives back, is written over the shortcut's array in place (the last convolution's
     * residual is its own output, {@link Conv#apply(Tensor, Tensor, Tensor)}), which is {@code x}'s own when the
     * block has no downsample, and otherwise {@code x} goes back to {@code activations} once the first
     * convolution and the downsample have read it. Each intermediate goes back as soon as the layer after it has
     * read it, so at most the shortcut and the last two of the main path are in use (with a downsample, for a
     * moment, {@code x} and its projection beside the first intermediate).
     */
    Tensor forward(Tensor x, ActivationBuffers activations) {
        Tensor shortcut = downsample == null ? x : null;
        Tensor h = x;
        for (int i = 0; i < path.size() - 1; i++) {
            Tensor next = activations.take(path.get(i).outputShape(h.shape()));
            path.get(i).apply(h, null, next);
            if (h != x) {
                activations.give(h);
            }
            h = next;
            if (shortcut == null) {
                shortcut = project(x, activations);
            }
        }
        path.get(path.size() - 1).apply(h, shortcut, shortcut);
        activations.give(h);
        return shortcut;
    }

    /** The downsampled shortcut of {@code x}, which then goes back: every layer that reads it has run. */
    private Tensor project(Tensor x, ActivationBuffers activations) {
        Tensor projected = activations.take(downsample.outputShape(x.shape()));
        downsample.apply(x, null, projected);
        activations.give(x);
        return projected;
    }

    /**
     * The block on the device, as a tensor of {@code x}'s type (the layers') that the caller closes; consumes
     * {@code x}, which is closed here or becomes the result. As on the host, the last convolution writes its
     * output over the shortcut in place: over {@code x} without a downsample, over the projection with one
     * ({@code x} closed once the first convolution and the downsample are enqueued on it). Each intermediate is
     * closed as soon as the next layer has been enqueued on it, so that its memory goes back to the pool; on a
     * failure every tensor the block holds, {@code x} included, is closed before the exception leaves.
     */
    DeviceTensor forward(DeviceTensor x) {
        DeviceTensor shortcut = downsample == null ? x : null;
        // x while the block still holds it apart from the shortcut: until the downsample has been enqueued on it.
        DeviceTensor unprojected = downsample == null ? null : x;
        DeviceTensor h = null;
        try {
            for (int i = 0; i < path.size() - 1; i++) {
                DeviceTensor next = path.get(i).apply(h == null ? x : h);
                if (h != null) {
                    h.close();
                }
                h = next;
                if (shortcut == null) {
                    shortcut = downsample.apply(x);
                    unprojected.close();
                    unprojected = null;
                }
            }
            path.get(path.size() - 1).apply(h, shortcut, shortcut);
            DeviceTensor out = shortcut;
            shortcut = null;
            return out;
        } finally {
            if (h != null) {
                h.close();
            }
            if (shortcut != null) {
                shortcut.close();
            }
            if (unprojected != null) {
                unprojected.close();
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
