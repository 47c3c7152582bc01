package org.convcl.testing;

/**
 * A reference whose kernel is multiplied by a mask before use, as flax does: differentiating it in w gives
 * what autodiff gives for a masked layer, {@code dW_eff * mask}.
 */
public record MaskedReference(BilinearReference inner, double[] mask) implements BilinearReference {
    @Override
    public double[] apply(double[] x, double[] w) {
        double[] masked = new double[w.length];
        for (int j = 0; j < w.length; j++) {
            masked[j] = w[j] * mask[j];
        }
        return inner.apply(x, masked);
    }

    @Override
    public int inputLength() {
        return inner.inputLength();
    }

    @Override
    public int kernelLength() {
        return inner.kernelLength();
    }
}
