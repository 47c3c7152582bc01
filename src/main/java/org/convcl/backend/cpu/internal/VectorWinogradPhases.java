package org.convcl.backend.cpu.internal;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.convcl.backend.cpu.internal.WinogradPhases.DimFamily;
import org.convcl.backend.cpu.internal.WinogradPhases.DimGroup;
import org.convcl.backend.cpu.internal.WinogradPhases.Group;

/**
 * {@link WinogradPhases} on the Vector API. A block of tiles sums its group's families: for each, the input
 * transform of every tile ({@code B^T} per dim, by the family's tap count) into {@code V[tile][point][Cin]}, one
 * matrix product per point in the direct kernel's register blocks ({@link VectorConvKernel#patchBlock4x4}), and
 * the output transform ({@code A^T} per dim) added into the block's sums; then bias and the stores.
 *
 * <p>The transforms run dim by dim over small per-thread buffers, for any mix of 1, 2 and 3 taps; the stride-1
 * 3-tap case has its own register-resident transforms in {@link VectorWinogradKernel}. Loads pick their source
 * array by condition, never a vector (which made C2 on JDK 17 slow, see there).
 *
 * <p>Loaded only when the {@code jdk.incubator.vector} module is present (see {@link CpuKernels}).
 */
final class VectorWinogradPhases implements PhaseKernel {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();
    private static final int BLOCK = 4 * LANES;

    /** One thread's buffers, grown to the largest block it has run. */
    private static final class Buffers {
        float[] transformed = new float[0];
        float[] products = new float[0];
        float[] sums = new float[0];
        float[] first = new float[0];
        float[] second = new float[0];
        float[] zeros = new float[0];
        float[][] pointSource = new float[0][];
        int[] pointBase = new int[0];
        int[] outputBase = new int[0];
        int[] tile = new int[3];

        void ensure(WinogradPhases w) {
            int tiles = w.tilesPerBlock;
            transformed = atLeast(transformed, w.maxPoints * tiles * w.inChannels);
            products = atLeast(products, w.maxPoints * tiles * w.outChannels);
            sums = atLeast(sums, w.outputsPerTile * tiles * w.outChannels);
            first = atLeast(first, w.maxPoints * LANES);
            second = atLeast(second, w.maxPoints * LANES);
            zeros = atLeast(zeros, Math.max(w.inChannels, w.outChannels) + LANES);
            if (pointBase.length < w.maxPoints) {
                pointSource = new float[w.maxPoints][];
                pointBase = new int[w.maxPoints];
            }
            // Apart: a 3-d plan can have more outputs per tile and no more points than a 2-d one before it.
            if (outputBase.length < w.outputsPerTile) {
                outputBase = new int[w.outputsPerTile];
            }
        }

        private static float[] atLeast(float[] buffer, int floats) {
            return buffer.length >= floats ? buffer : new float[floats];
        }
    }

    private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);

    @Override
    public int channelBlock() {
        return BLOCK;
    }

    /** Family after family, at {@code w.kernelOffsets}, each in {@link #transformTaps}'s layout. */
    @Override
    public float[] transformKernel(WinogradPhases w, float[] kernel) {
        if (!VectorWinogradKernel.allFinite(kernel)) {
            return null;
        }
        float[] transformed = new float[w.transformedKernelFloats];
        for (int f = 0; f < w.allFamilies.size(); f++) {
            DimFamily[] family = w.allFamilies.get(f);
            int[][] kernelTaps = new int[family.length][];
            for (int d = 0; d < family.length; d++) {
                kernelTaps[d] = family[d].kernelTaps;
            }
            transformTaps(kernel, w.geometry.kernelSpatial(), kernelTaps, w.inChannels, w.outChannels, transformed,
                    w.kernelOffsets.get(f));
        }
        return transformed;
    }

    /**
     * {@code G} along every dim of the kernel taps {@code kernelTaps[d]} (1 to 3 per dim) of every input and output
     * channel pair, written from {@code offset} in the layout the matrix products stream: for point {@code p} and
     * block {@code c} of {@link #BLOCK} output channels, {@code Cin} steps of {@link #BLOCK} floats at
     * {@code offset + ((p * blocks + c) * Cin) * BLOCK}. Vectorised over output channels, contiguous in the
     * kernel. Shared with {@link VectorWinogradKernel} (all three taps of every dim).
     */
    static void transformTaps(float[] kernel, int[] kernelSpatial, int[][] kernelTaps, int cin, int cout,
            float[] transformed, int offset) {
        int rank = kernelTaps.length;
        int[] counts = new int[rank];
        int taps = 1;
        int points = 1;
        for (int d = 0; d < rank; d++) {
            counts[d] = kernelTaps[d].length;
            taps *= counts[d];
            points *= counts[d] + 1;
        }
        // The taps, row-major over the dims, as flat indices into the kernel's taps.
        int[] tapIndex = new int[taps];
        for (int t = 0; t < taps; t++) {
            int flat = 0;
            for (int d = 0, rest = t, divisor = taps; d < rank; d++) {
                divisor /= counts[d];
                flat = flat * kernelSpatial[d] + kernelTaps[d][rest / divisor];
                rest %= divisor;
            }
            tapIndex[t] = flat;
        }
        float[] first = new float[points * LANES];
        float[] second = new float[points * LANES];
        int perPoint = cout / BLOCK * cin * BLOCK;
        for (int ci = 0; ci < cin; ci++) {
            for (int co = 0; co < cout; co += LANES) {
                for (int t = 0; t < taps; t++) {
                    FloatVector.fromArray(SPECIES, kernel, (tapIndex[t] * cin + ci) * cout + co)
                            .intoArray(first, t * LANES);
                }
                float[] result = kernelTransform(counts, first, second);
                int at = offset + co / BLOCK * cin * BLOCK + ci * BLOCK + co % BLOCK;
                for (int p = 0; p < points; p++) {
                    FloatVector.fromArray(SPECIES, result, p * LANES).intoArray(transformed, at + p * perPoint);
                }
            }
        }
    }

    /** {@code G} along every dim (k taps to k + 1 points) of the vectors in {@code a}; returns the result's buffer. */
    private static float[] kernelTransform(int[] counts, float[] a, float[] b) {
        int rank = counts.length;
        float[] from = a;
        float[] to = b;
        FloatVector half = FloatVector.broadcast(SPECIES, 0.5f);
        for (int d = 0; d < rank; d++) {
            int k = counts[d];
            int before = 1;
            for (int e = 0; e < d; e++) {
                before *= counts[e] + 1;
            }
            int after = 1;
            for (int e = d + 1; e < rank; e++) {
                after *= counts[e];
            }
            int step = after * LANES;
            for (int o = 0; o < before; o++) {
                for (int i = 0; i < after; i++) {
                    int in = (o * k * after + i) * LANES;
                    int out = (o * (k + 1) * after + i) * LANES;
                    FloatVector g0 = FloatVector.fromArray(SPECIES, from, in);
                    if (k == 1) {
                        g0.intoArray(to, out);
                        g0.intoArray(to, out + step);
                    } else if (k == 2) {
                        FloatVector g1 = FloatVector.fromArray(SPECIES, from, in + step);
                        g0.intoArray(to, out);
                        g0.add(g1).intoArray(to, out + step);
                        g1.intoArray(to, out + 2 * step);
                    } else {
                        FloatVector g1 = FloatVector.fromArray(SPECIES, from, in + step);
                        FloatVector g2 = FloatVector.fromArray(SPECIES, from, in + 2 * step);
                        g0.intoArray(to, out);
                        g0.add(g1).add(g2).mul(half).intoArray(to, out + step);
                        g0.sub(g1).add(g2).mul(half).intoArray(to, out + 2 * step);
                        g2.intoArray(to, out + 3 * step);
                    }
                }
            }
            float[] swap = from;
            from = to;
            to = swap;
        }
        return from;
    }

    @Override
    public boolean computeBlock(WinogradPhases w, int task, float[] input, float[] transformedKernel, float[] bias,
            float[] output, StoreEpilogue epilogue) {
        Buffers buffers = BUFFERS.get();
        buffers.ensure(w);
        Group group = w.groupOf(task);
        int firstTile = (task - group.firstTask) * w.tilesPerBlock;
        int count = Math.min(w.tilesPerBlock, group.totalTiles - firstTile);
        int[] tile = buffers.tile;
        int sumsPerTile = w.outputsPerTile * w.outChannels;
        java.util.Arrays.fill(buffers.sums, 0, count * sumsPerTile, 0f);
        for (int f = 0; f < group.families.size(); f++) {
            int familyIndex = group.firstFamily + f;
            DimFamily[] family = group.families.get(f);
            int[] digits = w.familyDigits.get(familyIndex);
            int points = WinogradPhases.points(family);
            for (int t = 0; t < count; t++) {
                int b = group.decode(firstTile + t, tile);
                transformInputs(w, family, digits, points, b, tile, t, input, buffers);
            }
            VectorWinogradKernel.multiply(points, w.inChannels, w.outChannels, count, buffers.transformed,
                    transformedKernel, w.kernelOffsets.get(familyIndex), buffers.products);
            for (int t = 0; t < count; t++) {
                addOutputs(w, family, points, t, buffers);
            }
        }
        boolean finite = true;
        for (int t = 0; t < count; t++) {
            int b = group.decode(firstTile + t, tile);
            finite &= store(w, group, b, tile, t, bias, output, epilogue, buffers);
        }
        return finite;
    }

    /** The input transform of one tile for one family into {@code V[t][point][Cin]}. */
    private static void transformInputs(WinogradPhases w, DimFamily[] family, int[] digits, int points, int b,
            int[] tile, int t, float[] input, Buffers buffers) {
        int rank = w.rank;
        int cin = w.inChannels;
        float[][] pointSource = buffers.pointSource;
        int[] pointBase = buffers.pointBase;
        for (int p = 0; p < points; p++) {
            int base = b;
            for (int d = 0; d < rank; d++) {
                int x = family[d].sources[tile[d] * (family[d].taps + 1) + digits[p * rank + d]];
                if (x < 0) {
                    base = -1;
                    break;
                }
                base = base * w.inSpatial[d] + x;
            }
            pointSource[p] = base < 0 ? buffers.zeros : input;
            pointBase[p] = base < 0 ? 0 : base * cin;
        }
        float[] gathered = buffers.first;
        float[] transformed = buffers.transformed;
        int tileBase = t * points * cin;
        for (int c = 0; c < cin; c += LANES) {
            int lanes = Math.min(LANES, cin - c);
            if (lanes == LANES) {
                for (int p = 0; p < points; p++) {
                    FloatVector.fromArray(SPECIES, pointSource[p], pointBase[p] + c).intoArray(gathered, p * LANES);
                }
            } else {
                java.util.Arrays.fill(gathered, 0, points * LANES, 0f);
                for (int p = 0; p < points; p++) {
                    System.arraycopy(pointSource[p], pointBase[p] + c, gathered, p * LANES, lanes);
                }
            }
            float[] result = inputTransform(family, gathered, buffers.second);
            if (lanes == LANES) {
                for (int p = 0; p < points; p++) {
                    FloatVector.fromArray(SPECIES, result, p * LANES).intoArray(transformed, tileBase + p * cin + c);
                }
            } else {
                for (int p = 0; p < points; p++) {
                    System.arraycopy(result, p * LANES, transformed, tileBase + p * cin + c, lanes);
                }
            }
        }
    }

    /** {@code B^T} along every dim (k + 1 points each) of the vectors in {@code a}; returns the result's buffer. */
    private static float[] inputTransform(DimFamily[] family, float[] a, float[] b) {
        int rank = family.length;
        float[] from = a;
        float[] to = b;
        for (int d = 0; d < rank; d++) {
            int k = family[d].taps;
            if (k == 1) {
                continue; // B^T is the identity for one tap
            }
            int before = 1;
            for (int e = 0; e < d; e++) {
                before *= family[e].taps + 1;
            }
            int after = 1;
            for (int e = d + 1; e < rank; e++) {
                after *= family[e].taps + 1;
            }
            int step = after * LANES;
            for (int o = 0; o < before; o++) {
                for (int i = 0; i < after; i++) {
                    int at = (o * (k + 1) * after + i) * LANES;
                    FloatVector x0 = FloatVector.fromArray(SPECIES, from, at);
                    FloatVector x1 = FloatVector.fromArray(SPECIES, from, at + step);
                    FloatVector x2 = FloatVector.fromArray(SPECIES, from, at + 2 * step);
                    if (k == 2) {
                        x0.sub(x1).intoArray(to, at);
                        x1.intoArray(to, at + step);
                        x2.sub(x1).intoArray(to, at + 2 * step);
                    } else {
                        FloatVector x3 = FloatVector.fromArray(SPECIES, from, at + 3 * step);
                        x0.sub(x2).intoArray(to, at);
                        x1.add(x2).intoArray(to, at + step);
                        x2.sub(x1).intoArray(to, at + 2 * step);
                        x1.sub(x3).intoArray(to, at + 3 * step);
                    }
                }
            }
            float[] swap = from;
            from = to;
            to = swap;
        }
        return from;
    }

    /** {@code A^T} along every dim of tile t's products, added into its sums {@code [t][output][Cout]}. */
    private static void addOutputs(WinogradPhases w, DimFamily[] family, int points, int t, Buffers buffers) {
        int cout = w.outChannels;
        int outputs = w.outputsPerTile;
        float[] products = buffers.products;
        float[] sums = buffers.sums;
        float[] gathered = buffers.first;
        int tileBase = t * points * cout;
        int sumBase = t * outputs * cout;
        for (int c = 0; c < cout; c += LANES) {
            for (int p = 0; p < points; p++) {
                FloatVector.fromArray(SPECIES, products, tileBase + p * cout + c).intoArray(gathered, p * LANES);
            }
            float[] result = outputTransform(family, gathered, buffers.second);
            for (int e = 0; e < outputs; e++) {
                int at = sumBase + e * cout + c;
                FloatVector.fromArray(SPECIES, result, e * LANES).add(FloatVector.fromArray(SPECIES, sums, at))
                        .intoArray(sums, at);
            }
        }
    }

    /** {@code A^T} along every dim (k + 1 points to 2 outputs) of the vectors in {@code a}; returns the result's buffer. */
    private static float[] outputTransform(DimFamily[] family, float[] a, float[] b) {
        int rank = family.length;
        float[] from = a;
        float[] to = b;
        for (int d = 0; d < rank; d++) {
            int k = family[d].taps;
            if (k == 1) {
                continue; // A^T is the identity for one tap (2 points, 2 outputs)
            }
            int before = 1 << d;
            int after = 1;
            for (int e = d + 1; e < rank; e++) {
                after *= family[e].taps + 1;
            }
            int step = after * LANES;
            for (int o = 0; o < before; o++) {
                for (int i = 0; i < after; i++) {
                    int at = (o * (k + 1) * after + i) * LANES;
                    int out = (o * 2 * after + i) * LANES;
                    FloatVector m0 = FloatVector.fromArray(SPECIES, from, at);
                    FloatVector m1 = FloatVector.fromArray(SPECIES, from, at + step);
                    FloatVector m2 = FloatVector.fromArray(SPECIES, from, at + 2 * step);
                    if (k == 2) {
                        m0.add(m1).intoArray(to, out);
                        m1.add(m2).intoArray(to, out + step);
                    } else {
                        FloatVector m3 = FloatVector.fromArray(SPECIES, from, at + 3 * step);
                        m0.add(m1).add(m2).intoArray(to, out);
                        m1.sub(m2).sub(m3).intoArray(to, out + step);
                    }
                }
            }
            float[] swap = from;
            from = to;
            to = swap;
        }
        return from;
    }

    /**
     * Tile t's sums plus bias into its outputs that exist, each followed by {@code epilogue} (when not null); false
     * when one (before the epilogue) is NaN or infinite.
     */
    private static boolean store(WinogradPhases w, Group group, int b, int[] tile, int t, float[] bias,
            float[] output, StoreEpilogue epilogue, Buffers buffers) {
        int rank = w.rank;
        int cout = w.outChannels;
        int outputs = w.outputsPerTile;
        int[] outputBase = buffers.outputBase;
        for (int e = 0; e < outputs; e++) {
            int base = b;
            for (int d = 0; d < rank; d++) {
                DimGroup dim = group.dims[d];
                int second = (e >> (rank - 1 - d)) & 1;
                int o = second == 0 ? dim.first[tile[d]] : dim.second[tile[d]];
                if (o < 0) {
                    base = -1;
                    break;
                }
                base = base * w.outSpatial[d] + o;
            }
            outputBase[e] = base < 0 ? -1 : base * cout;
        }
        float[] sums = buffers.sums;
        float[] biasSource = bias == null ? buffers.zeros : bias;
        int sumBase = t * outputs * cout;
        // x * 0 is 0 for a finite x and NaN otherwise: sums tell whether every output was finite. The vector sum
        // lives through the inner loop only (C2 boxes a vector carried across nested loops).
        float check = 0f;
        for (int e = 0; e < outputs; e++) {
            int base = outputBase[e];
            if (base < 0) {
                continue;
            }
            FloatVector vectorCheck = FloatVector.zero(SPECIES);
            for (int c = 0; c < cout; c += LANES) {
                FloatVector y = FloatVector.fromArray(SPECIES, sums, sumBase + e * cout + c)
                        .add(FloatVector.fromArray(SPECIES, biasSource, c));
                vectorCheck = vectorCheck.add(y.mul(0f));
                y.intoArray(output, base + c);
            }
            check += vectorCheck.reduceLanes(VectorOperators.ADD);
            if (epilogue != null) {
                VectorStoreEpilogue.apply(epilogue, output, base, 0, cout);
            }
        }
        return !Float.isNaN(check);
    }
}
