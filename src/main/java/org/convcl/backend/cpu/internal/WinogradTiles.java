package org.convcl.backend.cpu.internal;

import org.convcl.backend.cpu.CpuBackend;
import org.convcl.ConvGeometry;

/**
 * A geometry cut into Winograd F(2, 3) tiles, for 3-tap kernels at stride 1 in 1 to 3 spatial dims: each tile
 * is 2 outputs along every dim ({@code 2^rank} outputs), computed from {@code 4^rank} transformed input points
 * with {@code 4^rank} products per input and output channel pair where a direct convolution needs
 * {@code 2^rank * 3^rank}: 2.25 times fewer multiply-adds in 2-d, 3.4 times fewer in 3-d, 1.5 in 1-d (Lavin and
 * Gray, "Fast Algorithms for Convolutional Neural Networks", 2015). The products of a transform point form a
 * matrix product over channels, which the Vector API kernel ({@link TileKernel}) runs with the direct kernel's
 * register blocks.
 *
 * <p>With kernel dilation {@code d}, a tile's two outputs along a dim are {@code d} apart and its four input
 * points {@code d} apart, so the same transforms apply. Every edge mode works: input coordinates come from
 * {@link ConvGeometry#sourceIndexTable}, as for the direct kernels.
 *
 * <p>The transforms: input {@code v = B^T x} with {@code B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]}, kernel
 * {@code u = G g} with {@code G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]}, output {@code y = A^T (u . v)} with
 * {@code A^T = [1 1 1 0; 0 1 -1 -1]}, applied along each dim in turn. Their rounding adds a few float32 ulps to
 * the direct sum's error; non-finite values do not propagate like the direct sum's ({@code Inf - Inf} appears in
 * the transforms), so calls whose kernel holds one go the direct way, and a block whose outputs come out non-finite
 * (a NaN or an infinity in the input it reads) is written from the direct way's sums (see {@code CpuBackend}).
 * {@link TileKernel#transformKernel} lays the transformed kernel out.
 *
 * <p>Memory stays bounded: a task transforms a block of at most {@link #MAX_TILES_PER_BLOCK} consecutive tiles
 * into per-thread buffers of at most {@link #MAX_BLOCK_FLOATS} floats; nothing grows with the image.
 * Immutable and shareable between threads.
 */
public final class WinogradTiles {
    /** Input points per tile along one dim. */
    static final int POINTS = 4;
    /** At most this many tiles per block: a register block takes 4, and more share the transforms' set-up. */
    static final int MAX_TILES_PER_BLOCK = 32;
    /** A block's transformed inputs and products together, at most (floats): 512 KiB, half a core's L2 here. */
    static final int MAX_BLOCK_FLOATS = 1 << 17;
    /** Below this many input channels the transforms cost more than the products they save. */
    static final int MIN_IN_CHANNELS = 8;

    final ConvGeometry geometry;
    final int rank;
    /** Transform points per tile: {@code 4^rank}. */
    final int points;
    /** Outputs per tile: {@code 2^rank}. */
    final int outputsPerTile;
    final int inChannels;
    final int outChannels;
    /** Tiles per dim. */
    final int[] tileCounts;
    /** Tiles per block (a multiple of 4). */
    final int tilesPerBlock;
    /** Tiles of one batch element: the product of {@link #tileCounts}. */
    final int tilesPerBatchElement;
    /** Tiles of the call: blocks take them in this order (batch element, then tile index, last dim fastest). */
    final int totalTiles;
    /** {@code starts[d][j]}: the first output coordinate of tile j along dim d. */
    final int[][] starts;
    /**
     * {@code sources[d][j * 4 + a]}: the input coordinate that point a of tile j reads along dim d, or -1 for a
     * zero (padding, or the missing second output of a tile at the edge).
     */
    final int[][] sources;
    /** {@code seconds[d][j]}: whether tile j's second output along dim d exists. */
    final boolean[][] seconds;
    final int[] inSpatial;
    final int[] outSpatial;
    /** The geometry's kernel dilation, copied once: the geometry hands out a fresh copy on every read. */
    final int[] kernelDilation;
    /** {@code pointDigits[p * rank + d]}: point p's index (0 to 3) along dim d, the first dim slowest. */
    final int[] pointDigits;

    private WinogradTiles(ConvGeometry g, int tilesPerBlock) {
        geometry = g;
        rank = g.rank();
        kernelDilation = g.kernelDilation();
        int p = 1;
        int e = 1;
        for (int d = 0; d < rank; d++) {
            p *= POINTS;
            e *= 2;
        }
        points = p;
        outputsPerTile = e;
        inChannels = g.inChannels();
        outChannels = g.outChannels();
        inSpatial = g.inSpatial();
        outSpatial = g.outSpatial();
        tileCounts = new int[rank];
        starts = new int[rank][];
        sources = new int[rank][];
        seconds = new boolean[rank][];
        for (int d = 0; d < rank; d++) {
            int n = outSpatial[d];
            int dilation = g.kernelDilation()[d];
            int span = 2 * dilation;
            int count = n / span * dilation + Math.min(dilation, n % span);
            int[] table = g.sourceIndexTable(d);
            tileCounts[d] = count;
            starts[d] = new int[count];
            sources[d] = new int[count * POINTS];
            seconds[d] = new boolean[count];
            for (int j = 0; j < count; j++) {
                // Tiles pair outputs s and s + d: within each stretch of 2d outputs, the first d start tiles.
                int s = j / dilation * span + j % dilation;
                boolean second = s + dilation < n;
                starts[d][j] = s;
                seconds[d][j] = second;
                sources[d][j * POINTS] = table[s * 3];
                sources[d][j * POINTS + 1] = table[s * 3 + 1];
                sources[d][j * POINTS + 2] = table[s * 3 + 2];
                // Point 3 is the second output's last tap; a tile without a second output reads a zero there
                // (point 3 feeds only the second output).
                sources[d][j * POINTS + 3] = second ? table[(s + dilation) * 3 + 2] : -1;
            }
        }
        pointDigits = new int[points * rank];
        for (int pt = 0; pt < points; pt++) {
            for (int d = rank - 1, rest = pt; d >= 0; d--, rest /= POINTS) {
                pointDigits[pt * rank + d] = rest % POINTS;
            }
        }
        this.tilesPerBlock = tilesPerBlock;
        int perBatchElement = 1;
        for (int d = 0; d < rank; d++) {
            perBatchElement *= tileCounts[d];
        }
        tilesPerBatchElement = perBatchElement;
        totalTiles = g.batch() * perBatchElement;
    }

    /**
     * The tiling of {@code g}, or null where Winograd does not apply or would not pay: it needs 1 to 3 spatial
     * dims, a kernel of 3 along each, stride 1, no input dilation, one group, at least {@link #MIN_IN_CHANNELS}
     * input channels and output channels in whole multiples of {@code channelBlock} (the register block's width).
     */
    public static WinogradTiles plan(ConvGeometry g, int channelBlock) {
        int rank = g.rank();
        if (rank < 1 || rank > 3 || g.groups() != 1 || g.inChannels() < MIN_IN_CHANNELS
                || g.outChannels() == 0 || g.outChannels() % channelBlock != 0 || g.batch() == 0
                || g.outputSpatialSize() == 0) {
            return null;
        }
        for (int d = 0; d < rank; d++) {
            if (g.kernelSpatial()[d] != 3 || g.strides()[d] != 1 || g.inputDilation()[d] != 1) {
                return null;
            }
        }
        long floatsPerTile = (long) pow(POINTS, rank) * (g.inChannels() + g.outChannels());
        long tiles = Math.min(MAX_TILES_PER_BLOCK, MAX_BLOCK_FLOATS / floatsPerTile) & ~3L;
        if (tiles < 4) {
            return null; // channels so many that 4 tiles' buffers exceed the bound: the direct kernel instead
        }
        return new WinogradTiles(g, (int) tiles);
    }

    /** Tasks of one call: one per block of tiles. */
    public int tasks() {
        return (totalTiles + tilesPerBlock - 1) / tilesPerBlock;
    }

    /**
     * Decodes tile {@code flat} of the call (see {@link #totalTiles}) into its index along each dim; returns
     * its batch element. A block may run over the end of a row or a batch element, so that every block but the
     * last fills its register blocks.
     */
    int decode(int flat, int[] tile) {
        int rest = flat % tilesPerBatchElement;
        for (int d = rank - 1; d >= 0; d--) {
            tile[d] = rest % tileCounts[d];
            rest /= tileCounts[d];
        }
        return flat / tilesPerBatchElement;
    }

    /**
     * Hands {@code position} the flat output position (batch element included, channels not) of every output
     * that block {@code task} writes: those of its tiles that lie inside the output.
     */
    void forEachOutput(int task, java.util.function.IntConsumer position) {
        int firstTile = task * tilesPerBlock;
        int count = Math.min(tilesPerBlock, totalTiles - firstTile);
        int[] dilation = kernelDilation;
        int[] tile = new int[rank];
        for (int t = 0; t < count; t++) {
            int b = decode(firstTile + t, tile);
            for (int e = 0; e < outputsPerTile; e++) {
                int flat = b;
                for (int d = 0; d < rank && flat >= 0; d++) {
                    int second = (e >> (rank - 1 - d)) & 1;
                    int j = tile[d];
                    flat = second == 1 && !seconds[d][j] ? -1
                            : flat * outSpatial[d] + starts[d][j] + second * dilation[d];
                }
                if (flat >= 0) {
                    position.accept(flat);
                }
            }
        }
    }

    static int pow(int base, int exponent) {
        int p = 1;
        for (int i = 0; i < exponent; i++) {
            p *= base;
        }
        return p;
    }
}
