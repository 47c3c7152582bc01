package org.convcl.opencl.internal.plan;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.convcl.ConvGeometry;
import org.convcl.ConvSpec;
import org.convcl.EdgeMode;
import org.convcl.opencl.device.OpenClDevice;
import org.convcl.opencl.internal.runtime.BuildOptions;
import org.convcl.opencl.internal.runtime.ClKernel;
import org.convcl.opencl.internal.runtime.OpenClContext;

/**
 * The depthwise kernel ({@code kernels/conv_depthwise.cl}) for ranks 1 to 3 with groups == input channels:
 * {@link KernelConfig.Depthwise#vectorWidth} output channels per work-item, {@link
 * KernelConfig.Depthwise#outputsPerItem} consecutive outputs along the last dim, 1-d work-groups. Stateless.
 */
public final class DepthwiseVariant implements ForwardVariant<KernelConfig.Depthwise> {
    public static final DepthwiseVariant INSTANCE = new DepthwiseVariant();
    static final List<String> SOURCES = List.of(ConvPlan.GEOMETRY_SOURCE, StorageOption.SOURCE, "conv_depthwise.cl");

    private DepthwiseVariant() {
    }

    @Override
    public String name() {
        return "depthwise";
    }

    @Override
    public Class<KernelConfig.Depthwise> configType() {
        return KernelConfig.Depthwise.class;
    }

    @Override
    public List<String> sources() {
        return SOURCES;
    }

    /** Whether {@code g} is depthwise (one input channel per group) and of a rank the kernel handles. */
    @Override
    public boolean supports(ConvGeometry g) {
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

    @Override
    public boolean fits(KernelConfig.Depthwise config, ConvGeometry g, OpenClDevice device) {
        return supports(g) && config.workGroupSize() <= device.maxWorkGroupSize()
                && (long) Math.max(1, g.batch()) * itemsPerBatch(g, fitted(g, config)) <= Integer.MAX_VALUE;
    }

    @Override
    public ForwardKernel compile(OpenClContext context, ConvGeometry g, boolean hasBias, EpilogueShape epilogue,
            KernelConfig.Depthwise requested) {
        if (!supports(g)) {
            throw new IllegalArgumentException("kernel config " + requested + ": the depthwise kernel needs groups == "
                    + "input channels and rank 1 to 3, got " + g);
        }
        KernelConfig.Depthwise config = fitted(g, requested);
        long itemsPerBatch = itemsPerBatch(g, config);
        OpenClDevice device = context.device();
        if (requested.workGroupSize() > device.maxWorkGroupSize()) {
            throw new IllegalArgumentException("kernel config " + requested + ": needs work-groups of "
                    + requested.workGroupSize() + " items but " + device.describe() + " allows "
                    + device.maxWorkGroupSize());
        }
        if ((long) g.batch() * itemsPerBatch > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("kernel config " + requested + ": " + itemsPerBatch
                    + " work-items per batch element are too many for 32-bit indexing; use KernelConfig.General");
        }
        String options = epilogue.options(options(g, hasBias, config));
        ClKernel kernel = context.kernel(context.program(epilogue.sources(SOURCES), options), "conv_depthwise");
        long group = config.workGroupSize();
        ForwardKernel.checkKernelLimit(kernel, device, group, "kernel config " + requested);
        int vector = config.vectorWidth();
        // Input loads are vectors only with one output channel per input channel; output ones always.
        int inputVector = g.outChannels() == g.inChannels() ? vector : 1;
        return new ForwardKernel(config, options, kernel,
                batch -> new long[] {(batch * itemsPerBatch + group - 1) / group * group}, new long[] {group},
                inputVector, vector);
    }

    /** {@code requested} with its vector width halved until it divides the output channels. */
    static KernelConfig.Depthwise fitted(ConvGeometry g, KernelConfig.Depthwise requested) {
        int vector = requested.vectorWidth();
        while (vector > 1 && g.outChannels() % vector != 0) {
            vector /= 2;
        }
        return vector == requested.vectorWidth() ? requested
                : new KernelConfig.Depthwise(vector, requested.outputsPerItem(), requested.workGroupSize());
    }

    /** Work-items one batch element needs (before rounding up to whole work-groups), for a fitted config. */
    static long itemsPerBatch(ConvGeometry g, KernelConfig.Depthwise config) {
        int rank = g.rank();
        long outerOutputs = 1;
        for (int d = 0; d < rank - 1; d++) {
            outerOutputs *= g.outSpatial()[d];
        }
        int outW = g.outSpatial()[rank - 1];
        long wBlocks = (outW + config.outputsPerItem() - 1) / config.outputsPerItem();
        return outerOutputs * wBlocks * (g.outChannels() / config.vectorWidth());
    }

    /** Every {@code -D} the program is built with: the config, then the geometry padded to 3 spatial dims, then the storage type. */
    static String options(ConvGeometry g, boolean hasBias, KernelConfig.Depthwise config) {
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
        options.define("CIN", g.inChannels()).define("COUT", g.outChannels())
                .define("EDGE_MODE", g.edgeMode().ordinal()).define("HAS_BIAS", hasBias);
        return StorageOption.define(options, g.storage()).toString();
    }

    @Override
    public Optional<KernelConfig.Depthwise> untuned(ConvGeometry g, OpenClDevice device, boolean portableOnly) {
        if (!supports(g)) {
            return Optional.empty();
        }
        long maxWorkGroup = Math.max(1, device.maxWorkGroupSize());
        KernelConfig.Depthwise config = switch (DeviceClass.of(device)) {
            // Neighbouring work-items take neighbouring 16-byte channel vectors; 4 outputs share a window.
            case NVIDIA_GPU, AMD_GPU, OTHER_GPU -> new KernelConfig.Depthwise(4, 4, (int) Math.min(128, maxWorkGroup));
            // One SIMD register of channels per work-item, a row of outputs per item for window reuse.
            case CPU -> new KernelConfig.Depthwise(16, 8, (int) Math.min(16, maxWorkGroup));
        };
        return fits(config, g, device) ? Optional.of(config) : Optional.empty();
    }

    /** 16 channels, two batch elements, edges on both spatial dims; the default config. */
    @Override
    public Optional<CodePath.Probe> probe(CodePath path, OpenClDevice device) {
        ConvGeometry g = ConvSpec.builder().groups(16).build().resolve(new int[] {2, 6, 7, 16},
                new int[] {3, 3, 1, 16});
        return untuned(g, device, true).map(config -> new CodePath.Probe(g, config));
    }

    /** Vector widths that divide the output channels, 1 to 8 outputs per item, work-groups by device type. */
    @Override
    public List<KernelConfig.Depthwise> candidates(ConvGeometry g, OpenClDevice device, boolean gpu) {
        int[] groups = gpu ? new int[] {32, 64, 128, 256} : new int[] {1, 4, 16, 64};
        List<KernelConfig.Depthwise> space = new ArrayList<>();
        for (int vector : new int[] {1, 2, 4, 8, 16}) {
            for (int outputs : new int[] {1, 2, 4, 8}) {
                for (int group : groups) {
                    if (group <= device.maxWorkGroupSize() && g.outChannels() % vector == 0) {
                        space.add(new KernelConfig.Depthwise(vector, outputs, group));
                    }
                }
            }
        }
        return space;
    }

    /** {@code "vector": 4, "outputs_per_item": 4, "work_group": 128}. */
    @Override
    public Map<String, Object> toJson(KernelConfig.Depthwise config) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("vector", config.vectorWidth());
        json.put("outputs_per_item", config.outputsPerItem());
        json.put("work_group", config.workGroupSize());
        return json;
    }

    @Override
    public KernelConfig.Depthwise fromJson(Map<?, ?> json) {
        return new KernelConfig.Depthwise(ConfigJson.number(json, "vector"), ConfigJson.number(json,
                "outputs_per_item"), ConfigJson.number(json, "work_group"));
    }
}
