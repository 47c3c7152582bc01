package org.convcl.nn;

import java.util.function.BiFunction;
import java.util.function.Function;
import org.convcl.ConvSpec;
import org.convcl.ConvTransposeGeometry;
import org.convcl.ConvTransposeSpec;
import org.convcl.Layout;
import org.convcl.ConvGeometry;
import org.convcl.backend.internal.ConvStep;

/**
 * What makes a layer a {@link Conv} or a {@link ConvTranspose} for the {@link LayerCore} that runs both, as jax
 * derives {@code conv_transpose} from {@code conv_general_dilated}: how its geometry {@code G} is resolved from the
 * input and kernel shapes, the feature groups its input's channels are checked against, the {@link ConvStep} (the
 * convolution, the CIRCULAR fold, the kernel's arrangement) a geometry runs as, and its channels-first boundary.
 * Immutable.
 *
 * @param resolve the geometry of a channels-last input and kernel shape, validated
 * @param inputGroups the groups a channels-first input's channel count is checked against
 * @param step the convolution a geometry runs as
 * @param kernelFlipSwapped whether the held kernel is the flip-swap of the one the convolution multiplies by
 * @param channelsFirst the channels-first boundary for a held kernel shape
 */
record LayerKind<G>(BiFunction<int[], int[], G> resolve, int inputGroups, Function<G, ConvStep> step,
        boolean kernelFlipSwapped, Function<int[], ChannelsFirst> channelsFirst) {

    static LayerKind<ConvGeometry> conv(ConvSpec spec) {
        return new LayerKind<>(spec::resolve, spec.groups(), ConvStep::of, false, ChannelsFirst::forConv);
    }

    static LayerKind<ConvTransposeGeometry> transpose(ConvTransposeSpec spec) {
        boolean flipped = spec.transposeKernel();
        return new LayerKind<>(spec::resolve, 1,
                g -> new ConvStep(g.conv(), g.circularFold(), g.transposeKernel(), g.outputShape()), flipped,
                kernelShape -> ChannelsFirst.forConvTranspose(kernelShape, flipped));
    }

    /** The boundary for {@code layout} and a held kernel of {@code kernelShape}: chosen once, at construction. */
    LayerLayout layout(Layout layout, int[] kernelShape) {
        return layout == Layout.CHANNELS_FIRST ? channelsFirst.apply(kernelShape) : new ChannelsLast(kernelFlipSwapped);
    }
}
