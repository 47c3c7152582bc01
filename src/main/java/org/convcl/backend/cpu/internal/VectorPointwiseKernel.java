package org.convcl.backend.cpu.internal;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The 1x1 convolution's matrix multiply on the Vector API: register blocks of 4 rows by 4 vectors of output
 * channels (16 accumulators), as {@link VectorConvKernel}'s, reading a packed kernel panel straight through. The
 * reduction over input channels is cut into chunks of {@link #CHUNK}: a chunk's panel (64 KiB at 16 lanes) stays
 * in the first two cache levels while every row block of the tile passes over it, where a whole panel (512 KiB at
 * 2048 input channels) would be fetched again from further away for each. Between chunks the partial sums wait in
 * the output, in float32 as they would in the registers, so the sum is the same float32 chain of fused
 * multiply-adds as in one pass; the bias is added after the last, as the row kernels do.
 *
 * <p>Loaded only when the {@code jdk.incubator.vector} module is present (see {@link CpuKernels}).
 */
final class VectorPointwiseKernel implements PointwiseKernel {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();
    /** Channels of a 4-vector block: the width of a packed panel. */
    private static final int BLOCK = 4 * LANES;
    /** Input channels per reduction chunk. */
    private static final int CHUNK = 256;

    @Override
    public int channelBlock() {
        return BLOCK;
    }

    @Override
    public float[] pack(int inChannels, int outChannels, float[] kernel) {
        int blocks = outChannels / BLOCK;
        if (blocks == 0) {
            return kernel;
        }
        // With whole blocks only, the panels are the kernel rearranged: kept across calls, they are compared with
        // the kernel through that rearrangement (packedHolds) instead of against a copy of it in its own order.
        int panelsFrom = outChannels % BLOCK == 0 ? 0 : kernel.length;
        float[] packed = panelsFrom == 0 ? new float[kernel.length]
                : java.util.Arrays.copyOf(kernel, kernel.length + blocks * inChannels * BLOCK);
        int at = panelsFrom;
        for (int block = 0; block < blocks; block++) {
            for (int ci = 0; ci < inChannels; ci++) {
                System.arraycopy(kernel, ci * outChannels + block * BLOCK, packed, at, BLOCK);
                at += BLOCK;
            }
        }
        return packed;
    }

    @Override
    public boolean packedHolds(int inChannels, int outChannels, float[] packed, float[] kernel) {
        int panelsFrom = panelsFrom(inChannels, outChannels, packed);
        if (panelsFrom > 0) {
            return java.util.Arrays.equals(kernel, 0, kernel.length, packed, 0, kernel.length);
        }
        int at = 0;
        for (int block = 0; block < outChannels / BLOCK; block++) {
            for (int ci = 0; ci < inChannels; ci++) {
                int from = ci * outChannels + block * BLOCK;
                if (!java.util.Arrays.equals(kernel, from, from + BLOCK, packed, at, at + BLOCK)) {
                    return false;
                }
                at += BLOCK;
            }
        }
        return true;
    }

    /** Where the panels of {@code packed} start: after the kernel's own copy, when it has one. */
    private static int panelsFrom(int cin, int cout, float[] packed) {
        return packed.length - cout / BLOCK * BLOCK * cin;
    }

    @Override
    public void computeTile(int cin, int cout, int[] rowOffsets, int mFrom, int mTo, int nFrom, int nTo,
            float[] input, float[] kernel, float[] bias, float[] output, StoreEpilogue epilogue) {
        int wideEnd = nFrom + (nTo - nFrom) / BLOCK * BLOCK;
        int panels = panelsFrom(cin, cout, kernel);
        int last = mTo - 1;
        // With a bias or an epilogue the last chunk's blocks store into the thread's stage first
        // (StoredBlockFinish says why).
        float[] stage = bias != null || epilogue != null ? StoredBlockFinish.threadStage() : null;
        for (int k0 = 0; k0 < cin; k0 += CHUNK) {
            int length = Math.min(CHUNK, cin - k0);
            boolean first = k0 == 0;
            boolean lastChunk = k0 + length == cin;
            for (int c = nFrom; c < wideEnd; c += BLOCK) {
                int panel = panels + c * cin + k0 * BLOCK;
                for (int m = mFrom; m < mTo; m += 4) {
                    // Past the tile's last row the block repeats it: computed twice, stored identically.
                    int m1 = Math.min(m + 1, last);
                    int m2 = Math.min(m + 2, last);
                    int m3 = Math.min(m + 3, last);
                    block4x4(input, rowOffsets[m - mFrom] + k0, rowOffsets[m1 - mFrom] + k0,
                            rowOffsets[m2 - mFrom] + k0, rowOffsets[m3 - mFrom] + k0, length, kernel, panel, output,
                            m * cout + c, m1 * cout + c, m2 * cout + c, m3 * cout + c, first, lastChunk, bias, c,
                            epilogue, stage);
                }
            }
            for (int c = wideEnd; c + LANES <= nTo; c += LANES) {
                for (int m = mFrom; m < mTo; m += 4) {
                    int m1 = Math.min(m + 1, last);
                    int m2 = Math.min(m + 2, last);
                    int m3 = Math.min(m + 3, last);
                    block4x1(input, rowOffsets[m - mFrom] + k0, rowOffsets[m1 - mFrom] + k0,
                            rowOffsets[m2 - mFrom] + k0, rowOffsets[m3 - mFrom] + k0, length, kernel,
                            k0 * cout + c, cout, output, m * cout + c, m1 * cout + c, m2 * cout + c, m3 * cout + c,
                            first, lastChunk, bias, c, epilogue);
                }
            }
        }
        int tail = wideEnd + (nTo - wideEnd) / LANES * LANES;
        if (tail < nTo) {
            scalarTail(cin, cout, rowOffsets, mFrom, mTo, tail, nTo, input, kernel, bias, output, epilogue);
        }
    }

    /** Channels {@code [from, to)} after the last whole vector, one sum at a time. */
    private static void scalarTail(int cin, int cout, int[] rowOffsets, int mFrom, int mTo, int from, int to,
            float[] input, float[] kernel, float[] bias, float[] output, StoreEpilogue epilogue) {
        for (int m = mFrom; m < mTo; m++) {
            int x = rowOffsets[m - mFrom];
            for (int c = from; c < to; c++) {
                float sum = 0f;
                for (int ci = 0; ci < cin; ci++) {
                    sum = Math.fma(input[x + ci], kernel[ci * cout + c], sum);
                }
                output[m * cout + c] = bias == null ? sum : sum + bias[c];
            }
            if (epilogue != null) {
                VectorStoreEpilogue.apply(epilogue, output, m * cout + from, from, to - from);
            }
        }
    }

    // One flat loop per block, accumulators declared in it and written out here, not in a helper: C2 (JDK 17)
    // keeps vectors in registers through a single loop but boxes them across nested loops and calls (see
    // VectorConvKernel).

    private static void block4x4(float[] input, int i0, int i1, int i2, int i3, int length, float[] kernel, int w,
            float[] output, int at0, int at1, int at2, int at3, boolean first, boolean lastChunk, float[] bias,
            int channel, StoreEpilogue epilogue, float[] stage) {
        FloatVector a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33;
        if (first) {
            a00 = FloatVector.zero(SPECIES);
            a01 = a00;
            a02 = a00;
            a03 = a00;
            a10 = a00;
            a11 = a00;
            a12 = a00;
            a13 = a00;
            a20 = a00;
            a21 = a00;
            a22 = a00;
            a23 = a00;
            a30 = a00;
            a31 = a00;
            a32 = a00;
            a33 = a00;
        } else {
            a00 = FloatVector.fromArray(SPECIES, output, at0);
            a01 = FloatVector.fromArray(SPECIES, output, at0 + LANES);
            a02 = FloatVector.fromArray(SPECIES, output, at0 + 2 * LANES);
            a03 = FloatVector.fromArray(SPECIES, output, at0 + 3 * LANES);
            a10 = FloatVector.fromArray(SPECIES, output, at1);
            a11 = FloatVector.fromArray(SPECIES, output, at1 + LANES);
            a12 = FloatVector.fromArray(SPECIES, output, at1 + 2 * LANES);
            a13 = FloatVector.fromArray(SPECIES, output, at1 + 3 * LANES);
            a20 = FloatVector.fromArray(SPECIES, output, at2);
            a21 = FloatVector.fromArray(SPECIES, output, at2 + LANES);
            a22 = FloatVector.fromArray(SPECIES, output, at2 + 2 * LANES);
            a23 = FloatVector.fromArray(SPECIES, output, at2 + 3 * LANES);
            a30 = FloatVector.fromArray(SPECIES, output, at3);
            a31 = FloatVector.fromArray(SPECIES, output, at3 + LANES);
            a32 = FloatVector.fromArray(SPECIES, output, at3 + 2 * LANES);
            a33 = FloatVector.fromArray(SPECIES, output, at3 + 3 * LANES);
        }
        for (int k = 0; k < length; k++) {
            FloatVector w0 = FloatVector.fromArray(SPECIES, kernel, w);
            FloatVector w1 = FloatVector.fromArray(SPECIES, kernel, w + LANES);
            FloatVector w2 = FloatVector.fromArray(SPECIES, kernel, w + 2 * LANES);
            FloatVector w3 = FloatVector.fromArray(SPECIES, kernel, w + 3 * LANES);
            FloatVector v = FloatVector.broadcast(SPECIES, input[i0 + k]);
            a00 = v.fma(w0, a00);
            a01 = v.fma(w1, a01);
            a02 = v.fma(w2, a02);
            a03 = v.fma(w3, a03);
            v = FloatVector.broadcast(SPECIES, input[i1 + k]);
            a10 = v.fma(w0, a10);
            a11 = v.fma(w1, a11);
            a12 = v.fma(w2, a12);
            a13 = v.fma(w3, a13);
            v = FloatVector.broadcast(SPECIES, input[i2 + k]);
            a20 = v.fma(w0, a20);
            a21 = v.fma(w1, a21);
            a22 = v.fma(w2, a22);
            a23 = v.fma(w3, a23);
            v = FloatVector.broadcast(SPECIES, input[i3 + k]);
            a30 = v.fma(w0, a30);
            a31 = v.fma(w1, a31);
            a32 = v.fma(w2, a32);
            a33 = v.fma(w3, a33);
            w += BLOCK;
        }
        // Stored as they are; after the last chunk, with a bias or an epilogue, into the stage, from which the
        // finish stores each output once (StoredBlockFinish says why not in the registers, and why not twice).
        boolean staged = lastChunk && stage != null;
        float[] target = staged ? stage : output;
        int to0 = staged ? 0 : at0;
        int to1 = staged ? BLOCK : at1;
        int to2 = staged ? 2 * BLOCK : at2;
        int to3 = staged ? 3 * BLOCK : at3;
        a00.intoArray(target, to0);
        a01.intoArray(target, to0 + LANES);
        a02.intoArray(target, to0 + 2 * LANES);
        a03.intoArray(target, to0 + 3 * LANES);
        a10.intoArray(target, to1);
        a11.intoArray(target, to1 + LANES);
        a12.intoArray(target, to1 + 2 * LANES);
        a13.intoArray(target, to1 + 3 * LANES);
        a20.intoArray(target, to2);
        a21.intoArray(target, to2 + LANES);
        a22.intoArray(target, to2 + 2 * LANES);
        a23.intoArray(target, to2 + 3 * LANES);
        a30.intoArray(target, to3);
        a31.intoArray(target, to3 + LANES);
        a32.intoArray(target, to3 + 2 * LANES);
        a33.intoArray(target, to3 + 3 * LANES);
        if (staged) {
            StoredBlockFinish.finish(stage, 0, BLOCK, 2 * BLOCK, 3 * BLOCK, output, at0, at1, at2, at3, bias, channel,
                    BLOCK, epilogue);
        }
    }

    /** One vector of channels read from the kernel as given ({@code stride} floats from one input channel to the next). */
    private static void block4x1(float[] input, int i0, int i1, int i2, int i3, int length, float[] kernel, int w,
            int stride, float[] output, int at0, int at1, int at2, int at3, boolean first, boolean lastChunk,
            float[] bias, int channel, StoreEpilogue epilogue) {
        FloatVector a0, a1, a2, a3;
        if (first) {
            a0 = FloatVector.zero(SPECIES);
            a1 = a0;
            a2 = a0;
            a3 = a0;
        } else {
            a0 = FloatVector.fromArray(SPECIES, output, at0);
            a1 = FloatVector.fromArray(SPECIES, output, at1);
            a2 = FloatVector.fromArray(SPECIES, output, at2);
            a3 = FloatVector.fromArray(SPECIES, output, at3);
        }
        for (int k = 0; k < length; k++) {
            FloatVector w0 = FloatVector.fromArray(SPECIES, kernel, w);
            a0 = FloatVector.broadcast(SPECIES, input[i0 + k]).fma(w0, a0);
            a1 = FloatVector.broadcast(SPECIES, input[i1 + k]).fma(w0, a1);
            a2 = FloatVector.broadcast(SPECIES, input[i2 + k]).fma(w0, a2);
            a3 = FloatVector.broadcast(SPECIES, input[i3 + k]).fma(w0, a3);
            w += stride;
        }
        FloatVector bv = lastChunk && bias != null ? FloatVector.fromArray(SPECIES, bias, channel)
                : FloatVector.zero(SPECIES);
        a0.add(bv).intoArray(output, at0);
        a1.add(bv).intoArray(output, at1);
        a2.add(bv).intoArray(output, at2);
        a3.add(bv).intoArray(output, at3);
        if (lastChunk && epilogue != null) {
            StoredBlockFinish.finish(output, at0, at1, at2, at3, output, at0, at1, at2, at3, null, channel, LANES,
                    epilogue);
        }
    }
}
