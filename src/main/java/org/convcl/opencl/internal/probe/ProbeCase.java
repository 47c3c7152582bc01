package org.convcl.opencl.internal.probe;

import java.util.Optional;
import java.util.SplittableRandom;
import org.convcl.ConvGeometry;
import org.convcl.ConvSpec;
import org.convcl.Precision;
import org.convcl.Tensor;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.opencl.device.OpenClDevice;
import org.convcl.opencl.internal.plan.KernelConfig;
import org.convcl.opencl.internal.runtime.ComputeCapability;
import org.convcl.opencl.internal.tuning.DefaultConfigs;

/**
 * The tiny case that proves one {@link KernelVariant} on one device: a geometry that the variant computes, the config
 * a call would use for it there, random operands and the Java path's result for them. Small enough to cost
 * milliseconds (a few thousand outputs), large enough to cross tiles: several K tiles, two batch elements, edges.
 *
 * @param variant  what is proven
 * @param geometry the case's geometry
 * @param config   the config its plan is built with
 * @param input    the input operand
 * @param kernel   the kernel operand
 * @param bias     the bias operand
 * @param expected the Java path's output ({@link CpuBackend})
 */
public record ProbeCase(KernelVariant variant, ConvGeometry geometry, KernelConfig config, float[] input,
        float[] kernel, float[] bias, float[] expected) {

    /**
     * The case for {@code variant} on {@code device}, or empty when the device does not run that variant: an mma
     * form other than the device's (tensor cores on NVIDIA compute capability 8.0 and later, emulated elsewhere),
     * or a blocking that does not fit the device's limits (calls would not be given it either).
     */
    public static Optional<ProbeCase> of(KernelVariant variant, OpenClDevice device) {
        boolean tensorCores = ComputeCapability.hasTf32TensorCores(device);
        ConvGeometry g;
        KernelConfig config;
        switch (variant) {
            case GENERAL -> {
                // Rank 4, which only the general kernel computes. A small work-group: its code is what is proven
                // here; sizing it to the compiled kernel's limit is the plan's job.
                g = ConvSpec.defaults().resolve(new int[] {2, 3, 3, 2, 3, 3}, new int[] {2, 2, 2, 2, 3, 4});
                config = new KernelConfig.General((int) Math.max(1, Math.min(16, device.maxWorkGroupSize())));
            }
            case GEMM -> {
                g = ConvSpec.defaults().resolve(new int[] {2, 6, 7, 16}, new int[] {3, 3, 16, 16});
                config = DefaultConfigs.portable(g, device);
            }
            case DEPTHWISE -> {
                g = ConvSpec.builder().groups(16).build().resolve(new int[] {2, 6, 7, 16}, new int[] {3, 3, 1, 16});
                config = DefaultConfigs.portable(g, device);
            }
            case MMA_EMULATED, MMA_TENSOR_CORES -> {
                if (tensorCores != (variant == KernelVariant.MMA_TENSOR_CORES)) {
                    return Optional.empty();
                }
                g = ConvSpec.builder().precision(Precision.TF32).build().resolve(new int[] {2, 5, 6, 16},
                        new int[] {3, 3, 16, 16});
                config = new KernelConfig.Gemm(DefaultConfigs.mmaTiling(g, Math.max(1, device.maxWorkGroupSize()),
                        device.localMemoryBytes()));
            }
            default -> throw new IllegalStateException("no probe case for " + variant);
        }
        if (KernelVariant.of(config, tensorCores) != variant || !DefaultConfigs.fits(config, g, device)) {
            return Optional.empty();
        }
        return Optional.of(withOperands(variant, g, config));
    }

    private static ProbeCase withOperands(KernelVariant variant, ConvGeometry g, KernelConfig config) {
        SplittableRandom random = new SplittableRandom(23);
        float[] input = random(random, Tensor.elementCount(g.inputShape()));
        float[] kernel = random(random, Tensor.elementCount(g.kernelShape()));
        float[] bias = random(random, g.outChannels());
        float[] expected = new float[(int) Tensor.elementCount(g.outputShape())];
        CpuBackend.instance().forward(g, input, kernel, bias, expected);
        return new ProbeCase(variant, g, config, input, kernel, bias, expected);
    }

    private static float[] random(SplittableRandom random, long count) {
        float[] values = new float[(int) count];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (random.nextDouble() * 2 - 1);
        }
        return values;
    }
}
