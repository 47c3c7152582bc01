package org.convcl.backend.cpu.internal;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntFunction;
import org.convcl.ConvGeometry;
import org.convcl.EdgeMode;

/**
 * Strided and input-dilated convolutions cut into stride-1 phases, each computed with Winograd F(2, k) tiles for
 * k = 1, 2 or 3 taps per dim; the cases {@link WinogradTiles} (3 taps, stride 1 everywhere) does not take.
 *
 * <p>Per spatial dim, one of three cases:
 * <ul>
 * <li><b>stride 1</b> (any kernel dilation d, a kernel of 2 or 3): one phase; a tile pairs outputs {@code o} and
 * {@code o + d}, as in {@link WinogradTiles}.</li>
 * <li><b>stride 2</b> (kernel dilation 1): the even taps and the odd taps each read every second input, so
 * output pairs {@code (o, o + 1)} are the sum of two stride-1 convolutions, one per tap parity, with
 * {@code ceil(k / 2)} and {@code floor(k / 2)} taps. A 3x3 stride-2 kernel needs 25 products per 2x2 outputs
 * instead of 36.</li>
 * <li><b>input dilation 2</b> (stride 1, kernel dilation 1): outputs of one parity read real input only through
 * taps of one parity, so each output parity is a stride-1 convolution of the input with half the taps; a tile
 * pairs outputs {@code o} and {@code o + 2}. A 4x4 kernel over a 2x dilated input needs 9 products per 2x2
 * outputs instead of 16.</li>
 * </ul>
 * A <em>group</em> is a set of tiles covering some outputs (one per dim, or two with input dilation: one per
 * output parity); its <em>families</em> are the tap subsets whose convolutions add up to those outputs (two per
 * strided dim). In N dims both are the products of the dims' lists.
 *
 * <p>The 1-d transforms (Lavin and Gray, 2015) for k taps and k + 1 points: k = 3 as in {@link WinogradTiles};
 * k = 2: {@code B^T = [1 -1 0; 0 1 0; 0 -1 1]}, {@code G = [1 0; 1 1; 0 1]}, {@code A^T = [1 1 0; 0 1 1]};
 * k = 1: identities, {@code G = [1; 1]}. Input coordinates come from {@link ConvGeometry#sourceIndexTable},
 * so every edge mode works. Memory per task is bounded as in {@link WinogradTiles}. Immutable and shareable.
 */
public final class WinogradPhases {
    /** As in {@link WinogradTiles}. */
    static final int MAX_TILES_PER_BLOCK = WinogradTiles.MAX_TILES_PER_BLOCK;
    /** A block's transformed inputs, products and sums together, at most (floats). */
    static final int MAX_BLOCK_FLOATS = WinogradTiles.MAX_BLOCK_FLOATS;
    static final int MIN_IN_CHANNELS = WinogradTiles.MIN_IN_CHANNELS;
    /**
     * Taken only where the products fall at least this many times: the transforms, the extra pass over the
     * products per family and the transformed kernel's size cost the rest. A 3x3 stride-2 layer (1.44: 25 products
     * for 36) measured 18.7-19.0 ms against the direct kernel's 20.0-23.3 (strided3x3s2, 3 interleaved rounds,
     * once the finiteness checks stopped running the Vector API's fallback); a 4x4 kernel over a 2x dilated input
     * (1.78) took 19 ms against 28 (upsample_idil2). A 1-d dim at stride 2 alone (1.2) is left direct.
     */
    static final double MIN_SAVING = 1.4;

    /** One dim's tap subset inside a group: which kernel taps, and the input coordinate of each tile's points. */
    static final class DimFamily {
        /** Taps of the subset (the 1-d transform's k): 1 to 3. */
        final int taps;
        /** The subset's kernel taps along the dim, in order. */
        final int[] kernelTaps;
        /** {@code sources[j * (taps + 1) + a]}: input coordinate of point a of tile j, or -1 for a zero. */
        final int[] sources;

        DimFamily(int[] kernelTaps, int[] sources) {
            this.taps = kernelTaps.length;
            this.kernelTaps = kernelTaps;
            this.sources = sources;
        }
    }

    /** One dim's group of tiles: the two outputs of each tile ({@code -1} for a missing second), and families. */
    static final class DimGroup {
        final int tiles;
        final int[] first;
        final int[] second;
        final List<DimFamily> families = new ArrayList<>();

        DimGroup(int tiles) {
            this.tiles = tiles;
            first = new int[tiles];
            second = new int[tiles];
        }
    }

    /**
     * An N-d group: a group per dim, the N-d families (a family per dim each, numbered from {@code firstFamily}
     * in {@link #allFamilies}), and the group's first task.
     */
    static final class Group {
        final DimGroup[] dims;
        final List<DimFamily[]> families;
        final int firstFamily;
        /** Tiles of one batch element, and of the call (batch element, then tile index, last dim fastest). */
        final int tilesPerBatchElement;
        final int totalTiles;
        final int firstTask;

        Group(DimGroup[] dims, List<DimFamily[]> families, int batch, int firstTask, int firstFamily) {
            this.firstFamily = firstFamily;
            this.dims = dims;
            this.families = families;
            int perBatchElement = 1;
            for (DimGroup dim : dims) {
                perBatchElement *= dim.tiles;
            }
            this.tilesPerBatchElement = perBatchElement;
            this.totalTiles = batch * perBatchElement;
            this.firstTask = firstTask;
        }

        /** Blocks of {@code tilesPerBlock} consecutive tiles: every block but the last fills its register blocks. */
        int blocks(int tilesPerBlock) {
            return (totalTiles + tilesPerBlock - 1) / tilesPerBlock;
        }

        /** Decodes tile {@code flat} of the group into its index along each dim; returns its batch element. */
        int decode(int flat, int[] tile) {
            int rest = flat % tilesPerBatchElement;
            for (int d = dims.length - 1; d >= 0; d--) {
                tile[d] = rest % dims[d].tiles;
                rest /= dims[d].tiles;
            }
            return flat / tilesPerBatchElement;
        }
    }

    final ConvGeometry geometry;
    final int rank;
    final int inChannels;
    final int outChannels;
    final int[] inSpatial;
    final int[] outSpatial;
    final int tilesPerBlock;
    /** The most points of any N-d family: the buffers' size. */
    final int maxPoints;
    final int outputsPerTile;
    final List<Group> groups = new ArrayList<>();
    /** Every N-d family of every group, in order: the kernel is transformed once per family. */
    final List<DimFamily[]> allFamilies = new ArrayList<>();
    /** Per family, {@code digits[p * rank + d]}: point p's index along dim d, the first dim slowest. */
    final List<int[]> familyDigits = new ArrayList<>();
    /** Per family, where its transformed kernel starts in the array the kernel transform makes. */
    final List<Integer> kernelOffsets = new ArrayList<>();
    final int transformedKernelFloats;
    private final int tasks;

    private WinogradPhases(ConvGeometry g, List<List<DimGroup>> dimGroups, int tilesPerBlock, int maxPoints) {
        geometry = g;
        rank = g.rank();
        inChannels = g.inChannels();
        outChannels = g.outChannels();
        inSpatial = g.inSpatial();
        outSpatial = g.outSpatial();
        this.tilesPerBlock = tilesPerBlock;
        this.maxPoints = maxPoints;
        outputsPerTile = 1 << rank;
        int task = 0;
        int kernelFloats = 0;
        for (DimGroup[] dims : product(dimGroups, DimGroup[]::new)) {
            List<List<DimFamily>> familyLists = new ArrayList<>();
            for (DimGroup dim : dims) {
                familyLists.add(dim.families);
            }
            List<DimFamily[]> families = product(familyLists, DimFamily[]::new);
            Group group = new Group(dims, families, g.batch(), task, allFamilies.size());
            for (DimFamily[] family : families) {
                int points = points(family);
                int[] digits = new int[points * rank];
                for (int p = 0; p < points; p++) {
                    for (int d = rank - 1, rest = p; d >= 0; d--) {
                        digits[p * rank + d] = rest % (family[d].taps + 1);
                        rest /= family[d].taps + 1;
                    }
                }
                allFamilies.add(family);
                familyDigits.add(digits);
                kernelOffsets.add(kernelFloats);
                kernelFloats += points * inChannels * outChannels;
            }
            groups.add(group);
            task += group.blocks(tilesPerBlock);
        }
        tasks = task;
        transformedKernelFloats = kernelFloats;
    }

    /**
     * The phases of {@code g}, or null where they do not apply or would not pay: 1 to 3 spatial dims, each at
     * stride 1 with a kernel of 2 or 3, at stride 2, or with input dilation 2 (kernels of up to 6 there), one
     * group, at least {@link #MIN_IN_CHANNELS} input channels, output channels in whole multiples of
     * {@code channelBlock}, and products falling at least {@link #MIN_SAVING} times.
     */
    public static WinogradPhases plan(ConvGeometry g, int channelBlock) {
        int rank = g.rank();
        if (rank < 1 || rank > 3 || g.groups() != 1 || g.inChannels() < MIN_IN_CHANNELS || g.outChannels() == 0
                || g.outChannels() % channelBlock != 0 || g.batch() == 0 || g.outputSpatialSize() == 0) {
            return null;
        }
        List<List<DimGroup>> dimGroups = new ArrayList<>();
        double saving = 1;
        int maxPoints = 1;
        for (int d = 0; d < rank; d++) {
            List<DimGroup> groups = dimGroups(g, d);
            if (groups == null) {
                return null;
            }
            dimGroups.add(groups);
            // Products per output pair along this dim: the direct sum's taps that read input, twice, against the
            // sum of the families' points.
            int points = 0;
            int directTaps = 0;
            int mostPoints = 0;
            for (DimGroup group : groups) {
                for (DimFamily family : group.families) {
                    points += family.taps + 1;
                    directTaps += family.taps;
                    mostPoints = Math.max(mostPoints, family.taps + 1);
                }
            }
            saving *= 2.0 * directTaps / points;
            maxPoints *= mostPoints;
        }
        if (saving < MIN_SAVING) {
            return null;
        }
        long floatsPerTile = (long) maxPoints * (g.inChannels() + g.outChannels()) + (1L << rank) * g.outChannels();
        long tiles = Math.min(MAX_TILES_PER_BLOCK, MAX_BLOCK_FLOATS / floatsPerTile) & ~3L;
        if (tiles < 4) {
            return null;
        }
        return new WinogradPhases(g, dimGroups, (int) tiles, maxPoints);
    }

    /** Points of an N-d family: the product of its dims' {@code taps + 1}. */
    static int points(DimFamily[] family) {
        int points = 1;
        for (DimFamily dim : family) {
            points *= dim.taps + 1;
        }
        return points;
    }

    /** Tasks of one call: the blocks of tiles of every group. */
    public int tasks() {
        return tasks;
    }

    /** The group that task belongs to. */
    Group groupOf(int task) {
        Group found = groups.get(0);
        for (Group group : groups) {
            if (group.firstTask <= task) {
                found = group;
            }
        }
        return found;
    }

    /**
     * Hands {@code position} the flat output position (batch element included, channels not) of every output
     * that block {@code task} writes: each tile's outputs that exist.
     */
    void forEachOutput(int task, java.util.function.IntConsumer position) {
        Group group = groupOf(task);
        int firstTile = (task - group.firstTask) * tilesPerBlock;
        int count = Math.min(tilesPerBlock, group.totalTiles - firstTile);
        int[] tile = new int[rank];
        for (int t = 0; t < count; t++) {
            int b = group.decode(firstTile + t, tile);
            for (int e = 0; e < outputsPerTile; e++) {
                int flat = b;
                for (int d = 0; d < rank && flat >= 0; d++) {
                    DimGroup dim = group.dims[d];
                    int o = ((e >> (rank - 1 - d)) & 1) == 0 ? dim.first[tile[d]] : dim.second[tile[d]];
                    flat = o < 0 ? -1 : flat * outSpatial[d] + o;
                }
                if (flat >= 0) {
                    position.accept(flat);
                }
            }
        }
    }

    /** One dim's groups, or null where the dim's settings are none of the three cases. */
    private static List<DimGroup> dimGroups(ConvGeometry g, int d) {
        int k = g.kernelSpatial()[d];
        int stride = g.strides()[d];
        int inputDilation = g.inputDilation()[d];
        int dilation = g.kernelDilation()[d];
        int n = g.outSpatial()[d];
        int[] table = g.sourceIndexTable(d);
        List<DimGroup> groups = new ArrayList<>();
        if (stride == 1 && inputDilation == 1 && (k == 2 || k == 3)) {
            groups.add(pairs(n, 0, 1, dilation, table, k, new int[][] {range(0, 1, k)}));
        } else if (stride == 2 && inputDilation == 1 && dilation == 1 && k >= 2 && k <= 6) {
            groups.add(pairs(n, 0, 1, 1, table, k, new int[][] {range(0, 2, k), range(1, 2, k)}));
        } else if (stride == 1 && inputDilation == 2 && dilation == 1 && k >= 2 && k <= 6
                && g.edgeMode() == EdgeMode.ZERO) {
            // Zero padding only: the parity argument needs the dilation's holes to read zeros, and wrap-around or
            // mirrored padding (which ConvGeometry.explicit can combine with input dilation) fills them.
            int padLo = g.padLo()[d];
            for (int parity = 0; parity < 2 && parity < n; parity++) {
                // Outputs o of this parity read real input through taps t with o + t - padLo even.
                int tapParity = Math.floorMod(padLo - parity, 2);
                groups.add(pairs(n, parity, 2, 1, table, k, new int[][] {range(tapParity, 2, k)}));
            }
        } else {
            return null;
        }
        return groups;
    }

    /**
     * Tiles over the outputs {@code from, from + step, ...} (below n): the i-th of them starts a tile when
     * {@code i mod 2 * gap < gap}, and the tile's second output is the {@code (i + gap)}-th. {@code gap} is the
     * kernel dilation at stride 1, and 1 otherwise. One family per non-empty tap subset.
     */
    private static DimGroup pairs(int n, int from, int step, int gap, int[] table, int k, int[][] subsets) {
        List<Integer> firsts = new ArrayList<>();
        List<Integer> seconds = new ArrayList<>();
        int count = (n - from + step - 1) / step; // outputs in this group
        for (int i = 0; i < count; i++) {
            if (i % (2 * gap) < gap) {
                firsts.add(from + i * step);
                seconds.add(i + gap < count ? from + (i + gap) * step : -1);
            }
        }
        DimGroup group = new DimGroup(firsts.size());
        for (int j = 0; j < group.tiles; j++) {
            group.first[j] = firsts.get(j);
            group.second[j] = seconds.get(j);
        }
        for (int[] subset : subsets) {
            if (subset.length == 0) {
                continue;
            }
            int taps = subset.length;
            int points = taps + 1;
            int[] sources = new int[group.tiles * points];
            for (int j = 0; j < group.tiles; j++) {
                int first = group.first[j];
                int second = group.second[j];
                for (int a = 0; a < taps; a++) {
                    sources[j * points + a] = table[first * k + subset[a]];
                }
                // The last point feeds only the second output: its last tap.
                sources[j * points + taps] = second < 0 ? -1 : table[second * k + subset[taps - 1]];
            }
            group.families.add(new DimFamily(subset, sources));
        }
        return group;
    }

    private static int[] range(int first, int step, int end) {
        int count = first >= end ? 0 : (end - first + step - 1) / step;
        int[] values = new int[count];
        for (int i = 0; i < count; i++) {
            values[i] = first + i * step;
        }
        return values;
    }

    /** Every combination of one item per list, in order (the last list fastest). */
    private static <T> List<T[]> product(List<? extends List<? extends T>> lists, IntFunction<T[]> newArray) {
        List<T[]> result = new ArrayList<>();
        result.add(newArray.apply(0));
        for (List<? extends T> list : lists) {
            List<T[]> next = new ArrayList<>();
            for (T[] prefix : result) {
                for (T item : list) {
                    T[] extended = Arrays.copyOf(prefix, prefix.length + 1);
                    extended[prefix.length] = item;
                    next.add(extended);
                }
            }
            result = next;
        }
        return result;
    }
}
