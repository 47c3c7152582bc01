package org.convcl.backend;

import java.util.Arrays;
import java.util.stream.IntStream;
import org.convcl.ConvGeometry;

/**
 * The pure-Java convolution: a direct loop nest, parallel over (batch, output rows), that never allocates
 * anything proportional to the problem beyond the output (no im2col). Per spatial dim a small table maps
 * (output position, kernel tap) to the input position read, so strides, padding of every mode and both
 * dilations share one inner loop; the innermost loop runs over contiguous output channels, which the JIT
 * vectorises.
 *
 * <p>Thread-safe and stateless; work runs on the common fork-join pool.
 */
public final class CpuBackend implements ConvBackend {
    /** Output positions a parallel task computes; large enough to amortise scheduling. */
    private static final int POSITIONS_PER_TASK_TARGET = 64;

    private static final CpuBackend INSTANCE = new CpuBackend();

    private CpuBackend() {
    }

    public static CpuBackend instance() {
        return INSTANCE;
    }

    @Override
    public String name() {
        return "cpu";
    }

    /** Nothing to release: the Java path holds no resources. */
    @Override
    public void close() {
    }

    @Override
    public void forward(ConvGeometry g, float[] input, float[] kernel, float[] bias, float[] output) {
        int batch = g.batch();
        int outPositions = g.outputSpatialSize();
        int cout = g.outChannels();
        if (batch == 0 || outPositions == 0 || cout == 0) {
            return;
        }
        Tables tables = new Tables(g);
        int taskCount = Math.max(1, outPositions / POSITIONS_PER_TASK_TARGET);
        int positionsPerTask = (outPositions + taskCount - 1) / taskCount;
        int tasksPerBatch = (outPositions + positionsPerTask - 1) / positionsPerTask;
        IntStream.range(0, batch * tasksPerBatch).parallel().forEach(task -> {
            int b = task / tasksPerBatch;
            int first = (task % tasksPerBatch) * positionsPerTask;
            int last = Math.min(outPositions, first + positionsPerTask);
            computePositions(g, tables, input, kernel, bias, output, b, first, last);
        });
    }

    private static void computePositions(ConvGeometry g, Tables tables, float[] input, float[] kernel,
            float[] bias, float[] output, int b, int first, int last) {
        int rank = g.rank();
        int cin = g.inChannels();
        int cout = g.outChannels();
        int groups = g.groups();
        int cinPerGroup = g.inChannelsPerGroup();
        int coutPerGroup = g.outChannelsPerGroup();
        int taps = g.kernelTaps();
        long inputBase = (long) b * g.inputSpatialSize() * cin;
        int[] outPos = new int[rank];
        int[] tap = new int[rank];
        decode(first, tables.outSpatial, outPos);
        for (int p = first; p < last; p++) {
            int outBase = (b * tables.outPositions + p) * cout;
            if (bias != null) {
                System.arraycopy(bias, 0, output, outBase, cout);
            } else {
                Arrays.fill(output, outBase, outBase + cout, 0f);
            }
            Arrays.fill(tap, 0);
            for (int t = 0; t < taps; t++) {
                int source = tables.sourcePosition(outPos, tap);
                if (source >= 0) {
                    int inBase = (int) (inputBase + (long) source * cin);
                    int kernelTapBase = t * cinPerGroup * cout;
                    for (int group = 0; group < groups; group++) {
                        int outGroupBase = outBase + group * coutPerGroup;
                        for (int ci = 0; ci < cinPerGroup; ci++) {
                            float x = input[inBase + group * cinPerGroup + ci];
                            int kernelRow = kernelTapBase + ci * cout + group * coutPerGroup;
                            for (int co = 0; co < coutPerGroup; co++) {
                                output[outGroupBase + co] += x * kernel[kernelRow + co];
                            }
                        }
                    }
                }
                increment(tap, tables.kernelSpatial);
            }
            increment(outPos, tables.outSpatial);
        }
    }

    /** Row-major multi-index of {@code flat} within {@code sizes}. */
    private static void decode(int flat, int[] sizes, int[] index) {
        for (int d = sizes.length - 1; d >= 0; d--) {
            index[d] = flat % sizes[d];
            flat /= sizes[d];
        }
    }

    /** Advances a row-major multi-index by one (wrapping to zero past the end). */
    private static void increment(int[] index, int[] sizes) {
        for (int d = sizes.length - 1; d >= 0; d--) {
            if (++index[d] < sizes[d]) {
                return;
            }
            index[d] = 0;
        }
    }

    /** Per-dim source tables and row-major strides of the input's spatial dims. */
    private static final class Tables {
        final int[] outSpatial;
        final int[] kernelSpatial;
        final int outPositions;
        final int[][] source;
        final int[] inputStride;

        Tables(ConvGeometry g) {
            int rank = g.rank();
            outSpatial = g.outSpatial();
            kernelSpatial = g.kernelSpatial();
            outPositions = g.outputSpatialSize();
            source = new int[rank][];
            for (int d = 0; d < rank; d++) {
                source[d] = g.sourceIndexTable(d);
            }
            int[] inSpatial = g.inSpatial();
            inputStride = new int[rank];
            int stride = 1;
            for (int d = rank - 1; d >= 0; d--) {
                inputStride[d] = stride;
                stride *= inSpatial[d];
            }
        }

        /** Flat spatial input position read by output {@code outPos} through tap {@code tap}, or -1. */
        int sourcePosition(int[] outPos, int[] tap) {
            int position = 0;
            for (int d = 0; d < outPos.length; d++) {
                int index = source[d][outPos[d] * kernelSpatial[d] + tap[d]];
                if (index < 0) {
                    return -1;
                }
                position += index * inputStride[d];
            }
            return position;
        }
    }
}
