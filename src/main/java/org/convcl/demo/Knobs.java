package org.convcl.demo;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.convcl.nn.Conv;
import org.convcl.ConvSpec;
import org.convcl.Padding;
import org.convcl.Tensor;
import org.convcl.backend.ConvBackend;

/**
 * The knobs the demo shows, each a convolution of the same grayscale image {@code (height, width, 1)}
 * (unbatched, one channel) with a fixed, normalised box kernel, so that every difference between panels is
 * the knob's: the padding modes (zeros, wrap-around, mirror, a crop), stride, input and kernel dilation, and
 * CAUSAL, which exists for 1-d kernels only and so runs along each row of the image (the rows are then the
 * batch). Stateless and thread-safe.
 */
public final class Knobs {
    /** The 2-d kernel: a 5 x 5 box, every weight 1/25, so that outputs stay in [0, 1]. */
    public static final int BOX = 5;
    /** The 1-d kernel of the CAUSAL panel: 9 taps of 1/9 along a row. */
    public static final int ROW_BOX = 9;

    /** One knob setting: a label, the kernel it uses and the spec. */
    public record Knob(String title, String detail, Tensor kernel, ConvSpec spec) {
        /** Runs this knob's convolution of {@code image} {@code (height, width, 1)} on {@code backend}. */
        public Tensor apply(Tensor image, ConvBackend backend) {
            return Conv.builder(kernel).spec(spec).backend(backend).build().apply(image);
        }
    }

    private Knobs() {
    }

    /** The knobs in grid order, after the input itself. */
    public static List<Knob> all() {
        Tensor box = box(BOX, BOX, 1, 1);
        Tensor rowBox = box(ROW_BOX, 1, 1);
        return List.of(
                new Knob("SAME", "", box, spec().build()),
                new Knob("VALID", "", box, spec().padding(Padding.VALID).build()),
                new Knob("PADDING 8", "ZEROS", box, spec().padding(Padding.of(8)).build()),
                new Knob("CIRCULAR", "", box, spec().padding(Padding.CIRCULAR).build()),
                new Knob("REFLECT", "", box, spec().padding(Padding.REFLECT).build()),
                new Knob("PADDING", "-16:8,8:-16", box, spec().padding(Padding.parse("-16:8,8:-16")).build()),
                new Knob("STRIDE 2", "SAME", box, spec().strides(2).build()),
                new Knob("INPUT DILATION 2", "PADDING 2", box, spec().inputDilation(2).padding(Padding.of(2)).build()),
                new Knob("KERNEL DILATION 2", "SAME", box, spec().kernelDilation(2).build()),
                new Knob("KERNEL DILATION 3", "SAME", box, spec().kernelDilation(3).build()),
                new Knob("CAUSAL", "1-D, EACH ROW", rowBox, spec().padding(Padding.CAUSAL).build()));
    }

    /** The input panel, then one panel per knob, each computed on {@code backend}. */
    public static List<Panel> panels(Tensor image, ConvBackend backend) {
        List<Panel> panels = new ArrayList<>();
        panels.add(new Panel("INPUT", BOX + "X" + BOX + " BOX KERNEL", image));
        for (Knob knob : all()) {
            panels.add(new Panel(knob.title(), knob.detail(), knob.apply(image, backend)));
        }
        return panels;
    }

    private static ConvSpec.Builder spec() {
        return ConvSpec.builder();
    }

    /** A kernel of {@code shape} whose spatial taps each weigh 1 / (number of taps): a mean filter. */
    static Tensor box(int... shape) {
        int taps = 1;
        for (int d = 0; d < shape.length - 2; d++) {
            taps *= shape[d];
        }
        float[] weights = new float[(int) Tensor.elementCount(shape)];
        Arrays.fill(weights, 1f / taps);
        return Tensor.of(weights, shape);
    }
}
