package org.convcl.opencl.internal.probe;

import java.util.Optional;
import java.util.SplittableRandom;
import org.convcl.ConvGeometry;
import org.convcl.DType;
import org.convcl.HalfFloats;
import org.convcl.Tensor;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.opencl.device.OpenClDevice;
import org.convcl.opencl.internal.plan.CodePath;
import org.convcl.opencl.internal.plan.ForwardVariant;
import org.convcl.opencl.internal.plan.ForwardVariants;
import org.convcl.opencl.internal.plan.KernelConfig;
import org.convcl.opencl.internal.runtime.ComputeCapability;

/**
 * The tiny case that proves one {@link CodePath} on one device: a geometry that the path computes, the config a call
 * would use for it there ({@link ForwardVariant#probe}), random operands and the Java path's result for them. Small
 * enough to cost milliseconds (a few thousand outputs), large enough to cross tiles: several K tiles, two batch
 * elements, edges.
 *
 * @param variant  the code path proven
 * @param geometry the case's geometry
 * @param config   the config its plan is built with
 * @param input    the input operand (values of the geometry's storage type)
 * @param kernel   the kernel operand (values of that type)
 * @param bias     the bias operand (values of that type)
 * @param expected the Java path's float32 output for them ({@link CpuBackend}), not rounded to the storage type
 */
public record ProbeCase(CodePath variant, ConvGeometry geometry, KernelConfig config, float[] input,
        float[] kernel, float[] bias, float[] expected) {

    /**
     * The case for {@code path} on {@code device}, or empty when the device does not run that path: an mma form
     * other than the device's (tensor cores on NVIDIA compute capability 8.0 and later, emulated elsewhere), or a
     * config that does not fit the device's limits (calls would not be given it either).
     */
    public static Optional<ProbeCase> of(CodePath path, OpenClDevice device) {
        boolean tensorCores = ComputeCapability.hasTf32TensorCores(device);
        return path.variant().probe(path, device)
                .filter(probe -> ForwardVariants.codePath(probe.config(), probe.geometry(), tensorCores).equals(path)
                        && ForwardVariants.fits(probe.config(), probe.geometry(), device))
                .map(probe -> withOperands(path, probe.geometry(), probe.config()));
    }

    private static ProbeCase withOperands(CodePath variant, ConvGeometry g, KernelConfig config) {
        SplittableRandom random = new SplittableRandom(23);
        DType type = g.storage();
        float[] input = representable(type, random(random, Tensor.elementCount(g.inputShape())));
        float[] kernel = representable(type, random(random, Tensor.elementCount(g.kernelShape())));
        float[] bias = representable(type, random(random, g.outChannels()));
        float[] expected = new float[(int) Tensor.elementCount(g.outputShape())];
        CpuBackend.instance().forward(g.withStorage(DType.FLOAT32), input, kernel, bias, expected);
        return new ProbeCase(variant, g, config, input, kernel, bias, expected);
    }

    /** {@code values} rounded to {@code type}, so that the device's upload in that type changes none of them. */
    private static float[] representable(DType type, float[] values) {
        return type == DType.FLOAT32 ? values : HalfFloats.decode(type, HalfFloats.encode(type, values));
    }

    private static float[] random(SplittableRandom random, long count) {
        float[] values = new float[(int) count];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (random.nextDouble() * 2 - 1);
        }
        return values;
    }
}
