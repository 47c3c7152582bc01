package org.convcl.opencl.internal.plan;

import org.convcl.ConvGeometry;
import org.convcl.EdgeMode;
import org.convcl.opencl.internal.runtime.BuildOptions;

/**
 * The depthwise kernel ({@code kernels/conv_depthwise.cl}) specialised for one geometry and config: its
 * launch shape and (on request) its {@code -D} options. Pure arithmetic; {@link ConvPlan} compiles and
 * launches it.
 *
 * @param geometry what is computed
 * @param hasBias  whether a bias is added
 * @param config   the config with its vector width fitted to the output channels
 * @param itemsPerBatch work-items one batch element needs (before rounding up to whole work-groups)
 */
public record DepthwiseLaunch(ConvGeometry geometry, boolean hasBias, KernelConfig.Depthwise config, long itemsPerBatch) {

    /** Whether {@code g} is depthwise (one input channel per group) and of a rank the kernel handles. */
    public static boolean supports(ConvGeometry g) {
        if (g.rank() > 3 || g.groups() != g.inChannels() || g.inChannelsPerGroup() != 1) {
            return false;
        }
        if (g.edgeMode() != EdgeMode.ZERO) {
            for (int dilation : g.inputDilation()) {
                if (dilation != 1) {
                    return false;
                }
            }
        }
        return true;
    }

    public static DepthwiseLaunch of(ConvGeometry g, boolean hasBias, KernelConfig.Depthwise requested) {
        if (!supports(g)) {
            throw new IllegalArgumentException("kernel config " + requested + ": the depthwise kernel needs groups == "
                    + "input channels and rank 1 to 3, got " + g);
        }
        int vector = requested.vectorWidth();
        // Input loads are vectors only with one output channel per input channel; output ones always.
        while (vector > 1 && g.outChannels() % vector != 0) {
            vector /= 2;
        }
        KernelConfig.Depthwise config = vector == requested.vectorWidth() ? requested
                : new KernelConfig.Depthwise(vector, requested.outputsPerItem(), requested.workGroupSize());
        int rank = g.rank();
        long outerOutputs = 1;
        for (int d = 0; d < rank - 1; d++) {
            outerOutputs *= g.outSpatial()[d];
        }
        int outW = g.outSpatial()[rank - 1];
        long wBlocks = (outW + config.outputsPerItem() - 1) / config.outputsPerItem();
        long items = outerOutputs * wBlocks * (g.outChannels() / config.vectorWidth());
        return new DepthwiseLaunch(g, hasBias, config, items);
    }

    /** Every {@code -D} the program is built with. */
    String options() {
        ConvGeometry g = geometry;
        String[] names = {"D", "H", "W"};
        int offset = 3 - g.rank();
        BuildOptions options = new BuildOptions().define("VEC", config.vectorWidth())
                .define("WPT_W", config.outputsPerItem());
        for (int d = 0; d < 3; d++) {
            boolean real = d >= offset;
            int i = d - offset;
            String n = names[d];
            options.define("IN_" + n, real ? g.inSpatial()[i] : 1).define("K_" + n, real ? g.kernelSpatial()[i] : 1)
                    .define("OUT_" + n, real ? g.outSpatial()[i] : 1).define("STRIDE_" + n, real ? g.strides()[i] : 1)
                    .define("IDIL_" + n, real ? g.inputDilation()[i] : 1)
                    .define("KDIL_" + n, real ? g.kernelDilation()[i] : 1).define("PAD_" + n, real ? g.padLo()[i] : 0);
        }
        return options.define("CIN", g.inChannels()).define("COUT", g.outChannels())
                .define("EDGE_MODE", g.edgeMode().ordinal()).define("HAS_BIAS", hasBias).toString();
    }

    long[] global(int batch) {
        long items = batch * itemsPerBatch;
        long group = config.workGroupSize();
        return new long[] {(items + group - 1) / group * group};
    }

    long[] local() {
        return new long[] {config.workGroupSize()};
    }
}
