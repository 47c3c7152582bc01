package org.convcl.opencl.internal.plan;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.convcl.ConvGeometry;
import org.convcl.ConvSpec;
import org.convcl.Precision;
import org.convcl.opencl.device.OpenClDevice;
import org.convcl.opencl.internal.runtime.BuildOptions;
import org.convcl.opencl.internal.runtime.ClBuffer;
import org.convcl.opencl.internal.runtime.ClKernel;
import org.convcl.opencl.internal.runtime.OpenClContext;

/**
 * The any-rank kernel ({@code kernels/conv_general.cl}): one work-item per output element, reading the input
 * through per-dim source-index tables uploaded with the plan (the ones {@code kernel_gradient.cl} reads,
 * {@link GradientTables#sources}). Computes every geometry, on every conformant device. Stateless.
 */
public final class GeneralVariant implements ForwardVariant<KernelConfig.General> {
    public static final GeneralVariant INSTANCE = new GeneralVariant();
    static final List<String> SOURCES = List.of(ConvPlan.TF32_SOURCE, StorageOption.SOURCE, "conv_general.cl");

    private GeneralVariant() {
    }

    @Override
    public String name() {
        return "general";
    }

    @Override
    public Class<KernelConfig.General> configType() {
        return KernelConfig.General.class;
    }

    @Override
    public List<String> sources() {
        return SOURCES;
    }

    @Override
    public boolean supports(ConvGeometry g) {
        return true;
    }

    @Override
    public boolean fits(KernelConfig.General config, ConvGeometry g, OpenClDevice device) {
        return config.workGroupSize() <= device.maxWorkGroupSize();
    }

    @Override
    public ForwardKernel compile(OpenClContext context, ConvGeometry g, boolean hasBias, EpilogueShape epilogue,
            KernelConfig.General config) {
        String options = epilogue.options(options(g, hasBias));
        GradientTables.Tables sources = GradientTables.sources(g);
        List<ClBuffer> buffers = new ArrayList<>();
        ClKernel kernel = null;
        try {
            ClBuffer tableBuffer = context.allocate(4L * sources.values().length, "source-index tables");
            buffers.add(tableBuffer);
            context.write(tableBuffer, sources.values());
            ClBuffer dimsBuffer = context.allocate(4L * sources.dims().length, "table layout");
            buffers.add(dimsBuffer);
            context.write(dimsBuffer, sources.dims());
            kernel = context.kernel(context.program(epilogue.sources(SOURCES), options), "conv_general");
            // The portable kernel must run on every conformant device, whatever group size was asked for: its
            // group size is free (one item per output, no local memory), so it is fitted to what the compiled
            // kernel allows, which can be below the device's maximum (32 of 1024 on rusticl's llvmpipe).
            int workGroup = WorkGroupSize.fit(config.workGroupSize(), kernel, context);
            long elementsPerBatch = (long) g.outputSpatialSize() * g.outChannels();
            return new ForwardKernel(new KernelConfig.General(workGroup), options, kernel, buffers,
                    batch -> new long[] {(batch * elementsPerBatch + workGroup - 1) / workGroup * workGroup},
                    new long[] {workGroup}, 1, 1, null, 0);
        } catch (RuntimeException e) {
            if (kernel != null) {
                kernel.close();
            }
            buffers.forEach(ClBuffer::close);
            throw e;
        }
    }

    /** Every {@code -D} the program is built with: the sizes; the tables carry the rest of the geometry. */
    static String options(ConvGeometry g, boolean hasBias) {
        BuildOptions options = new BuildOptions().define("RANK", g.rank()).define("CIN", g.inChannels())
                .define("COUT", g.outChannels()).define("GROUPS", g.groups()).define("TAPS", g.kernelTaps())
                .define("IN_PIXELS", g.inputSpatialSize()).define("OUT_PIXELS", g.outputSpatialSize())
                .define("HAS_BIAS", hasBias);
        if (g.productPrecision() == Precision.TF32) {
            options.define("TF32", 1);
        }
        return StorageOption.define(options, g.storage()).toString();
    }

    /**
     * 64 items per work-group, or the device's maximum when it is lower: always present, since this is the kernel
     * every geometry falls back to (the plan fits the group to the compiled kernel's own limit).
     */
    @Override
    public Optional<KernelConfig.General> untuned(ConvGeometry g, OpenClDevice device, boolean portableOnly) {
        return Optional.of(new KernelConfig.General((int) Math.min(64, Math.max(1, device.maxWorkGroupSize()))));
    }

    /**
     * Rank 4, which only the general kernel computes, with a small work-group: its code is what is proven here;
     * sizing it to the compiled kernel's limit is the plan's job.
     */
    @Override
    public Optional<CodePath.Probe> probe(CodePath path, OpenClDevice device) {
        ConvGeometry g = ConvSpec.defaults().resolve(new int[] {2, 3, 3, 2, 3, 3}, new int[] {2, 2, 2, 2, 3, 4});
        return Optional.of(new CodePath.Probe(g, new KernelConfig.General((int) Math.max(1, Math.min(16,
                device.maxWorkGroupSize())))));
    }

    /** Work-groups of 16 to 256 items that the device allows. */
    @Override
    public List<KernelConfig.General> candidates(ConvGeometry g, OpenClDevice device, boolean gpu) {
        List<KernelConfig.General> space = new ArrayList<>();
        for (int group : new int[] {16, 32, 64, 128, 256}) {
            if (group <= device.maxWorkGroupSize()) {
                space.add(new KernelConfig.General(group));
            }
        }
        return space;
    }

    /** {@code "work_group": 64}. */
    @Override
    public Map<String, Object> toJson(KernelConfig.General config) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("work_group", config.workGroupSize());
        return json;
    }

    @Override
    public KernelConfig.General fromJson(Map<?, ?> json) {
        return new KernelConfig.General(ConfigJson.number(json, "work_group"));
    }
}
