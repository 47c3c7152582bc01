package org.convcl.backend.cpu.internal;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.convcl.PoolOp;
import org.convcl.backend.internal.PoolRowKernel;

/**
 * {@link PoolRowKernel} on the Vector API for MAX and MIN: a row's channels a vector at a time, each lane taking
 * the element where the scalar loop takes it (NaN, or beyond the accumulator by an ordered comparison) through a
 * blend, so the bits are the same; channels after the last whole vector take the scalar loop. ResNet-50's 3x3
 * stride-2 max pooling over 64 channels spent most of its time in the scalar loop's branches.
 *
 * <p>AVG keeps the scalar loop: its sums would be the same, but which NaN payload an add of two NaNs keeps depends
 * on the operand order the compiler picks, and a selection copies values exactly.
 *
 * <p>Loaded only when the {@code jdk.incubator.vector} module is present (see {@link CpuKernels}).
 */
final class VectorPoolRowKernel implements PoolRowKernel {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();

    @Override
    public void accumulate(PoolOp op, float[] input, int row, float[] acc, int channels) {
        if (op == PoolOp.AVG) {
            PoolRowKernel.SCALAR.accumulate(op, input, row, acc, channels);
            return;
        }
        int whole = channels / LANES * LANES;
        if (op == PoolOp.MAX) {
            takeLarger(input, row, acc, whole);
        } else {
            takeSmaller(input, row, acc, whole);
        }
        if (whole < channels) {
            PoolRowKernel.scalarRange(op, input, row, acc, whole, channels);
        }
    }

    // One loop per operation, its comparison a constant: C2 (JDK 17) intrinsifies a comparison only when it
    // knows the operator, and falls back to boxed vectors otherwise.

    private static void takeLarger(float[] input, int row, float[] acc, int whole) {
        for (int c = 0; c < whole; c += LANES) {
            FloatVector a = FloatVector.fromArray(SPECIES, acc, c);
            FloatVector x = FloatVector.fromArray(SPECIES, input, row + c);
            VectorMask<Float> taken = x.test(VectorOperators.IS_NAN).or(x.compare(VectorOperators.GT, a));
            a.blend(x, taken).intoArray(acc, c);
        }
    }

    private static void takeSmaller(float[] input, int row, float[] acc, int whole) {
        for (int c = 0; c < whole; c += LANES) {
            FloatVector a = FloatVector.fromArray(SPECIES, acc, c);
            FloatVector x = FloatVector.fromArray(SPECIES, input, row + c);
            VectorMask<Float> taken = x.test(VectorOperators.IS_NAN).or(x.compare(VectorOperators.LT, a));
            a.blend(x, taken).intoArray(acc, c);
        }
    }
}
