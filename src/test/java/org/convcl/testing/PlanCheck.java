package org.convcl.testing;

import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.util.Arrays;
import java.util.Random;
import org.convcl.ConvGeometry;
import org.convcl.ConvSpec;
import org.convcl.Precision;
import org.convcl.Tensor;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.opencl.DeviceTensor;
import org.convcl.opencl.OpenClBackend;
import org.convcl.opencl.internal.plan.ConvPlan;
import org.convcl.opencl.internal.plan.KernelConfig;

/**
 * Runs one OpenCL plan on Gaussian data into a NaN-poisoned output and compares every element with the
 * float64 reference: the check the kernel-path, tuner and GPU-default tests share. A TF32 spec is held to the TF32
 * tolerance, and to the Java path's TF32 result within float32's rule (the two differ in summation order only).
 */
public final class PlanCheck {
    private PlanCheck() {
    }

    /**
     * Plans {@code spec} over {@code xShape} and {@code wShape} with a bias and {@code config} (null: the
     * backend's own choice), runs it on device tensors and asserts the result; returns the plan it ran.
     */
    public static ConvPlan assertMatchesReference(String what, OpenClBackend backend, ConvSpec spec, int[] xShape,
            int[] wShape, KernelConfig config, long seed) {
        ConvGeometry g = spec.resolve(xShape, wShape);
        Random random = new Random(seed);
        float[] x = gaussian(random, Tensor.elementCount(xShape));
        float[] w = gaussian(random, Tensor.elementCount(wShape));
        float[] bias = gaussian(random, g.outChannels());
        NaiveConv.Result reference = Reference.forward(Tolerance.toDouble(x), xShape, Tolerance.toDouble(w), wShape,
                Tolerance.toDouble(bias), spec.strides(), spec.inputDilation(), spec.kernelDilation(),
                spec.padding(), spec.groups());
        ConvPlan plan;
        try {
            plan = config == null ? backend.plan(g, true) : backend.plan(g, true, config);
        } catch (IllegalArgumentException refused) {
            // A driver may compile a kernel for fewer work-items per group than an explicit tiling needs (rusticl's
            // llvmpipe: 32): that tiling is rightly refused there, and there is nothing to compare. The backend's
            // own choice is never refused (it falls back to the portable kernel), nor is anything on PoCL.
            assumeFalse(config != null && refused.getMessage().contains("the compiled kernel runs at most"),
                    what + ": " + refused.getMessage());
            throw refused;
        }
        float[] poison = new float[(int) Tensor.elementCount(g.outputShape())];
        Arrays.fill(poison, Float.NaN);
        float[] got;
        try (DeviceTensor dx = backend.upload(Tensor.of(x, xShape));
                DeviceTensor dw = backend.upload(Tensor.of(w, wShape));
                DeviceTensor db = backend.upload(Tensor.of(bias, g.outChannels()));
                DeviceTensor dy = backend.upload(Tensor.of(poison, g.outputShape()))) {
            backend.forward(plan, g, dx, dw, db, dy);
            got = dy.download().data();
        }
        if (g.productPrecision() == Precision.TF32) {
            Tolerance.assertCloseTf32(what + " as " + plan.config(), reference.shape(), reference.values(),
                    reference.absSums(), g.outputShape(), got);
            // The same rounded products as the Java path's TF32, summed in another order: float32's rule, twice.
            float[] javaPath = new float[got.length];
            CpuBackend.instance().forward(g, x, w, bias, javaPath);
            Tolerance.assertClose(what + " as " + plan.config() + " against the Java path in TF32", g.outputShape(),
                    Tolerance.toDouble(javaPath), reference.absSums(), g.outputShape(), got, 2 * Tolerance.RELATIVE);
        } else {
            Tolerance.assertClose(what + " as " + plan.config(), reference.shape(), reference.values(),
                    reference.absSums(), g.outputShape(), got);
        }
        return plan;
    }

    private static float[] gaussian(Random random, long count) {
        float[] values = new float[Math.toIntExact(count)];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return values;
    }
}
