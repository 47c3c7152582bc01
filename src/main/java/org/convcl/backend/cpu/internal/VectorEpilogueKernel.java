package org.convcl.backend.cpu.internal;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.convcl.Activation;
import org.convcl.Epilogue;
import org.convcl.backend.internal.HostEpilogue;

/**
 * {@link EpilogueKernel} on the Vector API: one pass over the range, each vector of an output position's channels
 * scaled, shifted, added to the residual and activated before it is stored back, for the piecewise-linear
 * activations (identity, relu, relu6, leaky_relu); the others, whose transcendental functions dominate anyway, use
 * {@code HostEpilogue}'s loops. Lane-wise multiply and add round as the scalar operations do, and {@code max}/{@code
 * min} are {@code Math.max}/{@code Math.min} lane by lane, so the bits are {@code HostEpilogue.apply}'s. One pass
 * instead of one loop per stage matters where channels are few: a stage loop per position costs its setup each time.
 * Loaded by name (CpuKernels) so that the Java path links without the incubator module.
 */
final class VectorEpilogueKernel implements EpilogueKernel {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();

    @Override
    public void apply(Epilogue<float[]> epilogue, int channels, float[] output, int from, int to) {
        if (epilogue == null || epilogue.isNone() || from >= to) {
            return;
        }
        Activation activation = epilogue.activation();
        if (!piecewiseLinear(activation.kind())) {
            HostEpilogue.apply(epilogue, channels, output, from, to);
            return;
        }
        float[] scale = epilogue.scale();
        float[] shift = epilogue.shift();
        if (scale == null && shift == null) {
            // Nothing per channel: the whole range is one run.
            run(activation, null, null, 0, epilogue.residual(), output, from, to - from);
            return;
        }
        for (int i = from, c = from % channels; i < to; i += channels - c, c = 0) {
            run(activation, scale, shift, c, epilogue.residual(), output, i, Math.min(to - i, channels - c));
        }
    }

    private static boolean piecewiseLinear(Activation.Kind kind) {
        return kind == Activation.Kind.IDENTITY || kind == Activation.Kind.RELU || kind == Activation.Kind.RELU6
                || kind == Activation.Kind.LEAKY_RELU;
    }

    /** {@code count} elements from {@code at}, the first of channel {@code channel} (per-channel arrays may be null). */
    private static void run(Activation activation, float[] scale, float[] shift, int channel, float[] residual,
            float[] output, int at, int count) {
        Activation.Kind kind = activation.kind();
        float slope = activation.parameter();
        int j = 0;
        for (int bound = SPECIES.loopBound(count); j < bound; j += LANES) {
            FloatVector v = FloatVector.fromArray(SPECIES, output, at + j);
            if (scale != null) {
                v = v.mul(FloatVector.fromArray(SPECIES, scale, channel + j));
            }
            if (shift != null) {
                v = v.add(FloatVector.fromArray(SPECIES, shift, channel + j));
            }
            if (residual != null) {
                v = v.add(FloatVector.fromArray(SPECIES, residual, at + j));
            }
            activate(kind, slope, v).intoArray(output, at + j);
        }
        for (; j < count; j++) {
            float v = output[at + j];
            if (scale != null) {
                v *= scale[channel + j];
            }
            if (shift != null) {
                v += shift[channel + j];
            }
            if (residual != null) {
                v += residual[at + j];
            }
            output[at + j] = activation.apply(v);
        }
    }

    private static FloatVector activate(Activation.Kind kind, float slope, FloatVector v) {
        switch (kind) {
            case RELU:
                return v.max(0f);
            case RELU6:
                return v.max(0f).min(6f);
            case LEAKY_RELU:
                // v >= 0 ? v : slope * v; NaN is not >= 0 and slope * NaN is NaN, as in the scalar form.
                return v.mul(slope).blend(v, v.compare(jdk.incubator.vector.VectorOperators.GE, 0f));
            default:
                return v;
        }
    }
}
