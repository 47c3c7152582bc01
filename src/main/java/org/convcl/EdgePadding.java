package org.convcl;

import java.util.Arrays;

/**
 * An explicit padding of a channels-last array: a <em>padded</em> array {@code (batch, *paddedSpatial, C)}
 * whose element at spatial position {@code q} copies element {@code mode.sourceIndex(q - padLo)} (per dim) of
 * a <em>source</em> array {@code (batch, *sourceSpatial, C)}, or is zero where that index is -1.
 *
 * <p>Two linear maps come from it, each the other's adjoint: {@code pad} (source to padded, a gather) and
 * {@code fold} (padded to source, summing every padded element onto the source element it copies). They are
 * how gradients flow through wrap-around and mirrored padding: a CIRCULAR or REFLECT convolution is a VALID
 * convolution of the padded input, so its input gradient is the padded input's gradient folded back. flax's
 * CIRCULAR {@code ConvTranspose} is the same fold applied to a VALID transposed convolution's output (a
 * negative {@code padLo} shifts the period).
 *
 * <p>Immutable and thread-safe.
 */
public final class EdgePadding {
    private final int batch;
    private final int channels;
    private final int[] sourceSpatial;
    private final int[] paddedSpatial;
    private final int[] padLo;
    private final EdgeMode mode;

    public EdgePadding(int batch, int channels, int[] sourceSpatial, int[] paddedSpatial, int[] padLo,
            EdgeMode mode) {
        if (mode == null) {
            throw new IllegalArgumentException("mode: got null; expected an EdgeMode");
        }
        requirePerDim("sourceSpatial", sourceSpatial);
        requirePerDim("paddedSpatial", paddedSpatial);
        requirePerDim("padLo", padLo);
        int rank = sourceSpatial.length;
        if (paddedSpatial.length != rank || padLo.length != rank) {
            throw new IllegalArgumentException("edge padding: source spatial " + Arrays.toString(sourceSpatial)
                    + ", padded spatial " + Arrays.toString(paddedSpatial) + " and padLo " + Arrays.toString(padLo)
                    + " must have the same number of dims");
        }
        if (batch < 0 || channels < 0) {
            throw new IllegalArgumentException("edge padding: batch " + batch + " and channels " + channels
                    + " must be >= 0");
        }
        for (int d = 0; d < rank; d++) {
            if (sourceSpatial[d] < 0 || paddedSpatial[d] < 0) {
                throw new IllegalArgumentException("edge padding: spatial sizes " + Arrays.toString(sourceSpatial)
                        + " and " + Arrays.toString(paddedSpatial) + " must be >= 0");
            }
        }
        this.batch = batch;
        this.channels = channels;
        this.sourceSpatial = sourceSpatial.clone();
        this.paddedSpatial = paddedSpatial.clone();
        this.padLo = padLo.clone();
        this.mode = mode;
        Tensor.elementCount(sourceShape());
        Tensor.elementCount(paddedShape());
    }

    private static void requirePerDim(String name, int[] values) {
        if (values == null) {
            throw new IllegalArgumentException(name + ": got null; expected one value per spatial dim");
        }
    }

    /**
     * The padding a CIRCULAR or REFLECT convolution applies to its input: source = the input, padded = the
     * input extended by the geometry's {@code (padLo, padHi)}.
     */
    public static EdgePadding ofInput(ConvGeometry g) {
        if (g == null) {
            throw new IllegalArgumentException("geometry: got null; expected a ConvGeometry (ConvSpec.resolve)");
        }
        int[] inSpatial = g.inSpatial();
        int[] padded = new int[g.rank()];
        int[] lo = g.padLo();
        int[] hi = g.padHi();
        for (int d = 0; d < padded.length; d++) {
            padded[d] = Math.toIntExact(ConvGeometry.dilatedLength(inSpatial[d], g.inputDilation()[d]) + lo[d] + hi[d]);
        }
        return new EdgePadding(g.batch(), g.inChannels(), inSpatial, padded, lo, g.edgeMode());
    }

    public int batch() {
        return batch;
    }

    public int channels() {
        return channels;
    }

    public int rank() {
        return sourceSpatial.length;
    }

    public int[] sourceSpatial() {
        return sourceSpatial.clone();
    }

    public int[] paddedSpatial() {
        return paddedSpatial.clone();
    }

    public int[] padLo() {
        return padLo.clone();
    }

    public EdgeMode mode() {
        return mode;
    }

    /** {@code (batch, *sourceSpatial, C)}. */
    public int[] sourceShape() {
        return shape(sourceSpatial);
    }

    /** {@code (batch, *paddedSpatial, C)}. */
    public int[] paddedShape() {
        return shape(paddedSpatial);
    }

    /** For spatial dim d, the source coordinate each padded coordinate copies, or -1 for a zero. */
    public int[] sourceIndexTable(int d) {
        int[] table = new int[paddedSpatial[d]];
        for (int q = 0; q < table.length; q++) {
            table[q] = mode.sourceIndex(q - padLo[d], sourceSpatial[d], 1);
        }
        return table;
    }

    private int[] shape(int[] spatial) {
        int[] shape = new int[spatial.length + 2];
        shape[0] = batch;
        System.arraycopy(spatial, 0, shape, 1, spatial.length);
        shape[shape.length - 1] = channels;
        return shape;
    }

    @Override
    public String toString() {
        return "EdgePadding{source=" + Arrays.toString(sourceShape()) + ", padded=" + Arrays.toString(paddedShape())
                + ", padLo=" + Arrays.toString(padLo) + ", mode=" + mode + "}";
    }
}
