package org.convcl.opencl;

import java.util.Arrays;
import org.convcl.ConvGeometry;

/**
 * Everything about a call that decides its default plan (the geometry with its batch, product precision and storage type, and
 * whether it has a bias) as plain ints, so that finding the plan of a repeated call costs a hash of a few numbers: no string building,
 * no setting read. Equal signatures mean equal geometries.
 */
final class CallSignature {
    private final int[] values;
    private final int hash;

    private CallSignature(int[] values) {
        this.values = values;
        this.hash = Arrays.hashCode(values);
    }

    static CallSignature of(ConvGeometry g, boolean hasBias) {
        int rank = g.rank();
        int[] values = new int[9 + 8 * rank];
        int i = 0;
        values[i++] = rank;
        values[i++] = g.batch();
        values[i++] = g.inChannels();
        values[i++] = g.outChannels();
        values[i++] = g.groups();
        values[i++] = g.edgeMode().ordinal();
        values[i++] = hasBias ? 1 : 0;
        values[i++] = g.productPrecision().ordinal();
        values[i++] = g.storage().ordinal();
        for (int[] dims : new int[][] {g.inSpatial(), g.kernelSpatial(), g.outSpatial(), g.strides(), g.inputDilation(),
                g.kernelDilation(), g.padLo(), g.padHi()}) {
            System.arraycopy(dims, 0, values, i, rank);
            i += rank;
        }
        return new CallSignature(values);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof CallSignature that && hash == that.hash && Arrays.equals(values, that.values);
    }

    @Override
    public int hashCode() {
        return hash;
    }
}
