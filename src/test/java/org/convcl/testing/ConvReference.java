package org.convcl.testing;

import org.convcl.ConvSpec;
import org.convcl.Tensor;

/** {@link NaiveConv} (through {@link Reference}) as a {@link BilinearReference} for fixed shapes and settings. */
public record ConvReference(int[] xShape, int[] wShape, ConvSpec spec) implements BilinearReference {

    public static ConvReference of(RandomConfigs.ConvConfig config) {
        return new ConvReference(config.xShape(), config.wShape(), config.spec());
    }

    public static ConvReference of(GoldenCase c) {
        return new ConvReference(c.array("x").shape(), c.array("kernel").shape(), c.spec());
    }

    @Override
    public double[] apply(double[] x, double[] w) {
        return Reference.forward(x, xShape, w, wShape, null, spec.strides(), spec.inputDilation(),
                spec.kernelDilation(), spec.padding(), spec.groups()).values();
    }

    @Override
    public int inputLength() {
        return (int) Tensor.elementCount(xShape);
    }

    @Override
    public int kernelLength() {
        return (int) Tensor.elementCount(wShape);
    }
}
