package org.convcl.backend.cpu.internal;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link WinogradTiles} on the Vector API. A block of tiles goes through three steps, each vectorised over
 * channels: the input transform of every tile (its {@code 4^rank} points, {@code B^T} along each dim) into
 * {@code V[point][tile][Cin]}; one matrix product per point, {@code M[point] = V[point] x U[point]}, in the direct
 * kernel's 4-tile by 4-vector register blocks ({@link VectorConvKernel#patchBlock4x4}); and the output transform
 * ({@code A^T} along each dim) of every tile, plus bias, into the output.
 *
 * <p>Loaded only when the {@code jdk.incubator.vector} module is present (see {@link CpuKernels}).
 */
final class VectorWinogradKernel implements TileKernel {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();
    private static final int BLOCK = 4 * LANES;
    private static final int POINTS = WinogradTiles.POINTS;

    /** One thread's buffers, grown to the largest block it has run; a fresh set per task would be zeroed each time. */
    private static final class Buffers {
        float[] transformed = new float[0];
        float[] products = new float[0];
        /** Three buffers of {@code 4^rank} vectors for the transforms and the channel tail. */
        float[] first = new float[0];
        float[] second = new float[0];
        float[] third = new float[0];
        int[] pointBase = new int[0];
        /** Per point, the input, or {@link #zeros} where the point reads a zero: loads then never branch. */
        float[][] pointSource = new float[0][];
        float[][] gatheredSource = new float[0][];
        int[] gatheredBase = new int[0];
        /** Zeros for points that read padding, and for the bias of a layer without one. */
        float[] zeros = new float[0];
        int[] outputBase = new int[0];
        int[] tile = new int[3];

        void ensure(WinogradTiles w) {
            int transformedFloats = w.points * w.tilesPerBlock * w.inChannels;
            int productFloats = w.points * w.tilesPerBlock * w.outChannels;
            if (transformed.length < transformedFloats) {
                transformed = new float[transformedFloats];
            }
            if (products.length < productFloats) {
                products = new float[productFloats];
            }
            if (zeros.length < Math.max(w.inChannels + LANES, w.outChannels)) {
                zeros = new float[Math.max(w.inChannels + LANES, w.outChannels)];
            }
            if (first.length < w.points * LANES) {
                first = new float[w.points * LANES];
                second = new float[w.points * LANES];
                third = new float[w.points * LANES];
                pointBase = new int[w.points];
                pointSource = new float[w.points][];
                gatheredSource = new float[w.points][];
                gatheredBase = new int[w.points];
                outputBase = new int[w.outputsPerTile];
            }
        }
    }

    private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);

    @Override
    public int channelBlock() {
        return BLOCK;
    }

    /** All three taps of every dim, in {@link VectorWinogradPhases#transformTaps}'s layout. */
    @Override
    public float[] transformKernel(WinogradTiles w, float[] kernel) {
        if (!allFinite(kernel)) {
            return null;
        }
        int[][] kernelTaps = new int[w.rank][];
        java.util.Arrays.fill(kernelTaps, new int[] {0, 1, 2});
        float[] transformed = new float[w.points * w.inChannels * w.outChannels];
        VectorWinogradPhases.transformTaps(kernel, w.geometry.kernelSpatial(), kernelTaps, w.inChannels,
                w.outChannels, transformed, 0);
        return transformed;
    }

    /**
     * Whether every value is finite: {@code x * 0} is 0 for a finite x and NaN otherwise, so one sum tells. Vector
     * sums here start from {@code FloatVector.zero} made in place and live through a single loop: started from a
     * shared static zero vector and carried across nested loops, C2 (JDK 17) ran them through the Vector API's
     * Java fallback, allocating 10 to 50 MB per call.
     */
    static boolean allFinite(float[] values) {
        FloatVector sum = FloatVector.zero(SPECIES);
        int i = 0;
        for (; i + LANES <= values.length; i += LANES) {
            sum = sum.add(FloatVector.fromArray(SPECIES, values, i).mul(0f));
        }
        float tail = 0f;
        for (; i < values.length; i++) {
            tail += values[i] * 0f;
        }
        return !Float.isNaN(sum.reduceLanes(VectorOperators.ADD) + tail);
    }

    @Override
    public boolean computeBlock(WinogradTiles w, int task, float[] input, float[] transformedKernel, float[] bias,
            float[] output, StoreEpilogue epilogue) {
        Buffers buffers = BUFFERS.get();
        buffers.ensure(w);
        int firstTile = task * w.tilesPerBlock;
        int count = Math.min(w.tilesPerBlock, w.totalTiles - firstTile);
        int[] tile = buffers.tile;
        for (int t = 0; t < count; t++) {
            int b = w.decode(firstTile + t, tile);
            transformInputs(w, b, tile, t, input, buffers);
        }
        multiply(w.points, w.inChannels, w.outChannels, count, buffers.transformed, transformedKernel, 0,
                buffers.products);
        boolean finite = true;
        for (int t = 0; t < count; t++) {
            int b = w.decode(firstTile + t, tile);
            finite &= transformOutputs(w, b, tile, t, bias, output, epilogue, buffers);
        }
        return finite;
    }

    /** The input transform of one tile into {@code V[t][point][Cin]}. */
    private static void transformInputs(WinogradTiles w, int b, int[] tile, int t, float[] input, Buffers buffers) {
        int cin = w.inChannels;
        int points = w.points;
        int[] pointBase = buffers.pointBase;
        float[][] pointSource = buffers.pointSource;
        pointBases(w, b, tile, input, buffers.zeros, pointSource, pointBase);
        // V[t][p][Cin]: a tile's points side by side, so that its stores stream (a point-major layout put the 16
        // stores of a tile a power-of-two stride apart, into the same few cache sets).
        int tileBase = t * points * cin;
        int c = 0;
        for (; c + LANES <= cin; c += LANES) {
            inputTransform(w.rank, pointSource, pointBase, c, buffers.transformed, tileBase + c, cin, buffers.first);
        }
        if (c < cin) {
            // The last channels, fewer than a vector: copied lane by lane into a zeroed vector per point, and back.
            int lanes = cin - c;
            float[] gathered = buffers.second;
            float[][] gatheredSource = buffers.gatheredSource;
            int[] gatheredBase = buffers.gatheredBase;
            java.util.Arrays.fill(gathered, 0, points * LANES, 0f);
            for (int p = 0; p < points; p++) {
                gatheredSource[p] = gathered;
                gatheredBase[p] = p * LANES;
                System.arraycopy(pointSource[p], pointBase[p] + c, gathered, p * LANES, lanes);
            }
            float[] result = buffers.third;
            inputTransform(w.rank, gatheredSource, gatheredBase, 0, result, 0, LANES, buffers.first);
            for (int p = 0; p < points; p++) {
                System.arraycopy(result, p * LANES, buffers.transformed, tileBase + p * cin + c, lanes);
            }
        }
    }

    /**
     * Where every point of the tile reads (channel 0): the input at its flat offset, or the zeros at 0 where the
     * point reads a zero.
     */
    private static void pointBases(WinogradTiles w, int b, int[] tile, float[] input, float[] zeros,
            float[][] pointSource, int[] pointBase) {
        int rank = w.rank;
        int[] digits = w.pointDigits;
        for (int p = 0; p < w.points; p++) {
            int base = b;
            for (int d = 0; d < rank; d++) {
                int x = w.sources[d][tile[d] * POINTS + digits[p * rank + d]];
                if (x < 0) {
                    base = -1;
                    break;
                }
                base = base * w.inSpatial[d] + x;
            }
            pointSource[p] = base < 0 ? zeros : input;
            pointBase[p] = base < 0 ? 0 : base * w.inChannels;
        }
    }

    // Loads pick their array, never their vector, by condition: a vector chosen by a branch made C2 (JDK 17) emit
    // code that took twice as long as the whole input transform without it.
    private static FloatVector load(float[][] source, int[] base, int p, int c) {
        return FloatVector.fromArray(SPECIES, source[p], base[p] + c);
    }

    /**
     * {@code B^T} along every dim of one channel vector of a tile's points, read from {@code source[p]} at
     * {@code base[p] + c}, written to {@code target} at
     * {@code offset + p * stride}. Written out per rank, so that the points stay in registers.
     */
    private static void inputTransform(int rank, float[][] source, int[] base, int c, float[] target, int offset,
            int stride, float[] scratch) {
        if (rank == 1) {
            FloatVector x0 = load(source, base, 0, c);
            FloatVector x1 = load(source, base, 1, c);
            FloatVector x2 = load(source, base, 2, c);
            FloatVector x3 = load(source, base, 3, c);
            x0.sub(x2).intoArray(target, offset);
            x1.add(x2).intoArray(target, offset + stride);
            x2.sub(x1).intoArray(target, offset + 2 * stride);
            x1.sub(x3).intoArray(target, offset + 3 * stride);
        } else if (rank == 2) {
            inputTransform2d(source, base, 0, c, target, offset, stride);
        } else {
            // 3-d: the 2-d transform of each of the 4 slices along dim 0 into scratch, then B^T along dim 0.
            for (int a = 0; a < POINTS; a++) {
                inputTransform2d(source, base, a * 16, c, scratch, a * 16 * LANES, LANES);
            }
            int step = 16 * LANES;
            for (int q = 0; q < 16; q++) {
                int at = q * LANES;
                FloatVector x0 = FloatVector.fromArray(SPECIES, scratch, at);
                FloatVector x1 = FloatVector.fromArray(SPECIES, scratch, at + step);
                FloatVector x2 = FloatVector.fromArray(SPECIES, scratch, at + 2 * step);
                FloatVector x3 = FloatVector.fromArray(SPECIES, scratch, at + 3 * step);
                x0.sub(x2).intoArray(target, offset + q * stride);
                x1.add(x2).intoArray(target, offset + (16 + q) * stride);
                x2.sub(x1).intoArray(target, offset + (32 + q) * stride);
                x1.sub(x3).intoArray(target, offset + (48 + q) * stride);
            }
        }
    }

    /**
     * {@code B^T} along both dims of the 4 x 4 points {@code base[first .. first + 15]} (row-major), one output row
     * at a time: row i along dim 0 combines two input rows, then {@code B^T} along dim 1 gives its 4 points. One
     * method for all 16 points (16 loads, 32 operations) grew past what C2 (JDK 17) intrinsifies in one
     * compilation: its last stores fell back to boxed vectors, about 90 MB of garbage per ResNet-50 forward at
     * batch 8. Each row reloads its two input rows (from the first-level cache); the operations and their
     * operands are the same, so the values are bit for bit those of the single method.
     */
    private static void inputTransform2d(float[][] source, int[] base, int first, int c, float[] target, int offset,
            int stride) {
        inputRowDifference(source, base, first, 0, 2, c, target, offset, stride);
        inputRowSum(source, base, first, 1, 2, c, target, offset + 4 * stride, stride);
        inputRowDifference(source, base, first, 2, 1, c, target, offset + 8 * stride, stride);
        inputRowDifference(source, base, first, 1, 3, c, target, offset + 12 * stride, stride);
    }

    /** {@code B^T} along dim 1 of input row {@code a} minus input row {@code b} of the 4 x 4 points. */
    private static void inputRowDifference(float[][] source, int[] base, int first, int a, int b, int c,
            float[] target, int offset, int stride) {
        FloatVector r0 = load(source, base, first + 4 * a, c).sub(load(source, base, first + 4 * b, c));
        FloatVector r1 = load(source, base, first + 4 * a + 1, c).sub(load(source, base, first + 4 * b + 1, c));
        FloatVector r2 = load(source, base, first + 4 * a + 2, c).sub(load(source, base, first + 4 * b + 2, c));
        FloatVector r3 = load(source, base, first + 4 * a + 3, c).sub(load(source, base, first + 4 * b + 3, c));
        r0.sub(r2).intoArray(target, offset);
        r1.add(r2).intoArray(target, offset + stride);
        r2.sub(r1).intoArray(target, offset + 2 * stride);
        r1.sub(r3).intoArray(target, offset + 3 * stride);
    }

    /** {@code B^T} along dim 1 of input row {@code a} plus input row {@code b} of the 4 x 4 points. */
    private static void inputRowSum(float[][] source, int[] base, int first, int a, int b, int c, float[] target,
            int offset, int stride) {
        FloatVector r0 = load(source, base, first + 4 * a, c).add(load(source, base, first + 4 * b, c));
        FloatVector r1 = load(source, base, first + 4 * a + 1, c).add(load(source, base, first + 4 * b + 1, c));
        FloatVector r2 = load(source, base, first + 4 * a + 2, c).add(load(source, base, first + 4 * b + 2, c));
        FloatVector r3 = load(source, base, first + 4 * a + 3, c).add(load(source, base, first + 4 * b + 3, c));
        r0.sub(r2).intoArray(target, offset);
        r1.add(r2).intoArray(target, offset + stride);
        r2.sub(r1).intoArray(target, offset + 2 * stride);
        r1.sub(r3).intoArray(target, offset + 3 * stride);
    }

    /**
     * {@code M[t * points + p] = V[t * points + p] x U[p]} for every point, in 4-tile by 4-vector register blocks:
     * {@code V} is {@code transformed} ({@code Cin} per row), {@code U[p]} the kernel panel of point p from
     * {@code kernelOffset}, {@code M} is {@code products} ({@code Cout} per row). Shared with the phases.
     */
    static void multiply(int points, int cin, int cout, int count, float[] transformed, float[] transformedKernel,
            int kernelOffset, float[] products) {
        int blocks = cout / BLOCK;
        int last = count - 1;
        for (int p = 0; p < points; p++) {
            for (int block = 0; block < blocks; block++) {
                int kernelBase = kernelOffset + (p * blocks + block) * cin * BLOCK;
                for (int t = 0; t < count; t += 4) {
                    // Rows of V and M: tile t's point p is row t * points + p.
                    int r0 = t * points + p;
                    int r1 = Math.min(t + 1, last) * points + p;
                    int r2 = Math.min(t + 2, last) * points + p;
                    int r3 = Math.min(t + 3, last) * points + p;
                    VectorConvKernel.patchBlock4x4(cin, transformed, r0 * cin, r1 * cin, r2 * cin, r3 * cin,
                            transformedKernel, kernelBase, null, block * BLOCK, products, cout, r0, r1, r2, r3,
                            null, null);
                }
            }
        }
    }

    /**
     * {@code A^T} along every dim of one tile's products, plus bias, into its outputs that exist, then
     * {@code epilogue} (when not null) over them. Returns false
     * when an output is NaN or infinite: a NaN or an infinity among the inputs read always makes one so (every
     * point feeds an output with a factor of 1 or -1), and then the direct sum must decide the values.
     */
    private static boolean transformOutputs(WinogradTiles w, int b, int[] tile, int t, float[] bias,
            float[] output, StoreEpilogue epilogue, Buffers buffers) {
        int cout = w.outChannels;
        int points = w.points;
        int outputs = w.outputsPerTile;
        int tileBase = t * points * cout;
        int[] outputBase = buffers.outputBase;
        outputBases(w, b, tile, outputBase);
        float[] products = buffers.products;
        float[] result = buffers.third;
        // x * 0 is 0 for a finite x and NaN otherwise: sums tell whether every output was finite. The vector sum
        // lives through the inner loop only (see allFinite).
        float check = 0f;
        float[] biasSource = bias == null ? buffers.zeros : bias;
        for (int c = 0; c < cout; c += LANES) {
            outputTransform(w.rank, products, tileBase + c, cout, result, buffers.first);
            FloatVector biasVector = FloatVector.fromArray(SPECIES, biasSource, c);
            FloatVector vectorCheck = FloatVector.zero(SPECIES);
            for (int e = 0; e < outputs; e++) {
                // Every result joins the check, stored or not (one past the edge is finite when the inputs are), so
                // that the sum is updated on every path.
                FloatVector y = FloatVector.fromArray(SPECIES, result, e * LANES).add(biasVector);
                vectorCheck = vectorCheck.add(y.mul(0f));
                int base = outputBase[e];
                if (base >= 0) {
                    y.intoArray(output, base + c);
                }
            }
            check += vectorCheck.reduceLanes(VectorOperators.ADD);
        }
        if (epilogue != null) {
            // Output by output, every channel just stored, while the tile's outputs are in cache.
            for (int e = 0; e < outputs; e++) {
                if (outputBase[e] >= 0) {
                    VectorStoreEpilogue.apply(epilogue, output, outputBase[e], 0, cout);
                }
            }
        }
        return !Float.isNaN(check);
    }

    /** The flat output offset of each of the tile's outputs (channel 0), or -1 for one past the output's edge. */
    private static void outputBases(WinogradTiles w, int b, int[] tile, int[] outputBase) {
        int rank = w.rank;
        int[] dilation = w.kernelDilation;
        for (int e = 0; e < w.outputsPerTile; e++) {
            int base = b;
            for (int d = 0; d < rank; d++) {
                int second = (e >> (rank - 1 - d)) & 1;
                int j = tile[d];
                if (second == 1 && !w.seconds[d][j]) {
                    base = -1;
                    break;
                }
                base = base * w.outSpatial[d] + w.starts[d][j] + second * dilation[d];
            }
            outputBase[e] = base < 0 ? -1 : base * w.outChannels;
        }
    }

    /**
     * {@code A^T} along every dim of one channel vector of a tile's products, read from {@code source} at
     * {@code offset + p * stride}; the {@code 2^rank} results go to {@code result}, a vector each, first dim
     * slowest.
     */
    private static void outputTransform(int rank, float[] source, int offset, int stride, float[] result,
            float[] scratch) {
        if (rank == 1) {
            FloatVector m0 = FloatVector.fromArray(SPECIES, source, offset);
            FloatVector m1 = FloatVector.fromArray(SPECIES, source, offset + stride);
            FloatVector m2 = FloatVector.fromArray(SPECIES, source, offset + 2 * stride);
            FloatVector m3 = FloatVector.fromArray(SPECIES, source, offset + 3 * stride);
            m0.add(m1).add(m2).intoArray(result, 0);
            m1.sub(m2).sub(m3).intoArray(result, LANES);
        } else if (rank == 2) {
            outputTransform2d(source, offset, stride, result, 0);
        } else {
            // 3-d: the 2-d transform of each of the 4 slices along dim 0 into scratch, then A^T along dim 0.
            for (int a = 0; a < POINTS; a++) {
                outputTransform2d(source, offset + a * 16 * stride, stride, scratch, a * 4 * LANES);
            }
            int step = 4 * LANES;
            for (int q = 0; q < 4; q++) {
                int at = q * LANES;
                FloatVector m0 = FloatVector.fromArray(SPECIES, scratch, at);
                FloatVector m1 = FloatVector.fromArray(SPECIES, scratch, at + step);
                FloatVector m2 = FloatVector.fromArray(SPECIES, scratch, at + 2 * step);
                FloatVector m3 = FloatVector.fromArray(SPECIES, scratch, at + 3 * step);
                m0.add(m1).add(m2).intoArray(result, at);
                m1.sub(m2).sub(m3).intoArray(result, at + step);
            }
        }
    }

    /** {@code A^T} along both dims of 4 x 4 products (row-major) into 2 x 2 results at {@code result[at..]}. */
    private static void outputTransform2d(float[] source, int offset, int stride, float[] result, int at) {
        // Along dim 0 (rows) for each column: t0j = m0j + m1j + m2j, t1j = m1j - m2j - m3j.
        FloatVector t00, t01, t02, t03, t10, t11, t12, t13;
        {
            FloatVector m0 = FloatVector.fromArray(SPECIES, source, offset);
            FloatVector m1 = FloatVector.fromArray(SPECIES, source, offset + 4 * stride);
            FloatVector m2 = FloatVector.fromArray(SPECIES, source, offset + 8 * stride);
            FloatVector m3 = FloatVector.fromArray(SPECIES, source, offset + 12 * stride);
            t00 = m0.add(m1).add(m2);
            t10 = m1.sub(m2).sub(m3);
        }
        {
            FloatVector m0 = FloatVector.fromArray(SPECIES, source, offset + stride);
            FloatVector m1 = FloatVector.fromArray(SPECIES, source, offset + 5 * stride);
            FloatVector m2 = FloatVector.fromArray(SPECIES, source, offset + 9 * stride);
            FloatVector m3 = FloatVector.fromArray(SPECIES, source, offset + 13 * stride);
            t01 = m0.add(m1).add(m2);
            t11 = m1.sub(m2).sub(m3);
        }
        {
            FloatVector m0 = FloatVector.fromArray(SPECIES, source, offset + 2 * stride);
            FloatVector m1 = FloatVector.fromArray(SPECIES, source, offset + 6 * stride);
            FloatVector m2 = FloatVector.fromArray(SPECIES, source, offset + 10 * stride);
            FloatVector m3 = FloatVector.fromArray(SPECIES, source, offset + 14 * stride);
            t02 = m0.add(m1).add(m2);
            t12 = m1.sub(m2).sub(m3);
        }
        {
            FloatVector m0 = FloatVector.fromArray(SPECIES, source, offset + 3 * stride);
            FloatVector m1 = FloatVector.fromArray(SPECIES, source, offset + 7 * stride);
            FloatVector m2 = FloatVector.fromArray(SPECIES, source, offset + 11 * stride);
            FloatVector m3 = FloatVector.fromArray(SPECIES, source, offset + 15 * stride);
            t03 = m0.add(m1).add(m2);
            t13 = m1.sub(m2).sub(m3);
        }
        t00.add(t01).add(t02).intoArray(result, at);
        t01.sub(t02).sub(t03).intoArray(result, at + LANES);
        t10.add(t11).add(t12).intoArray(result, at + 2 * LANES);
        t11.sub(t12).sub(t13).intoArray(result, at + 3 * LANES);
    }
}
