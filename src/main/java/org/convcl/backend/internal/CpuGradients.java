package org.convcl.backend.internal;

import org.convcl.backend.cpu.CpuBackend;
import java.util.Arrays;
import java.util.function.Supplier;
import org.convcl.ConvGeometry;
import org.convcl.DType;
import org.convcl.HalfFloats;
import org.convcl.Precision;
import org.convcl.internal.CpuWorkers;
import org.convcl.internal.Tf32;

/**
 * The pure-Java reductions of the backward pass: the kernel gradient (a sum over batch and output positions
 * of input-times-output-gradient products) and the bias gradient (a sum of the output gradient).
 *
 * <p>Both split the (batch, output position) range into one contiguous slice per worker, each summing into
 * its own parameter-sized partial in double precision, then add the partials in a fixed order: the result
 * does not depend on scheduling, the reduction over possibly millions of positions keeps float32 accuracy,
 * and nothing proportional to the problem is allocated. The kernel gradient's inner loop accumulates float
 * products over a short block of positions (which the JIT vectorises at full width) and flushes the block
 * into the double partial, so rounding grows with the block, not with the whole reduction. In
 * {@link Precision#TF32} the kernel gradient's products take operands rounded to TF32. Interrupting the
 * calling thread stops either reduction within one block with a {@link java.util.concurrent.CancellationException},
 * as it stops a forward call ({@link CpuBackend}). Thread-safe and stateless.
 */
public final class CpuGradients {
    /** Positions summed in float before a flush into the double partial. */
    private static final int FLOAT_BLOCK = 32;
    /** Fewest (batch, position) pairs worth a worker of their own. */
    private static final int MIN_POSITIONS_PER_WORKER = 64;
    /** Most memory the per-worker partials of one call may take; bounds huge kernels on many cores. */
    private static final long PARTIALS_BUDGET_BYTES = 96L << 20;
    /** Rows of the bias gradient between two looks at the caller's interrupt flag. */
    private static final int INTERRUPT_CHECK_ROWS = 4096;

    private CpuGradients() {
    }

    /**
     * Overwrites {@code kernelGradient} {@code (*k, Cin/groups, Cout)} with the gradient of
     * {@code sum(conv(input, kernel) * outputGradient)} with respect to the kernel:
     * {@code dK[t][ci][co] = sum over b, o of input[b][source(o, t)][group(co) * Cin/groups + ci] * dY[b][o][co]},
     * where {@code source} follows the geometry's strides, dilations and padding of every mode (a wrapped or
     * mirrored read credits the input element it copies).
     */
    public static void kernelGradient(ConvGeometry g, float[] input, float[] outputGradient, float[] kernelGradient) {
        int kernelLength = kernelGradient.length;
        long pairs = (long) g.batch() * g.outputSpatialSize();
        if (pairs == 0 || kernelLength == 0) {
            Arrays.fill(kernelGradient, 0f);
            return;
        }
        if (g.productPrecision() == Precision.TF32) {
            // The products of the TF32 backward pass take rounded operands, as the forward pass's do.
            input = Tf32.roundedCopy(input);
            outputGradient = Tf32.roundedCopy(outputGradient);
        }
        float[] x = input;
        float[] dy = outputGradient;
        SourceTables tables = new SourceTables(g);
        reduceKernelGradient(g, pairs, kernelGradient,
                () -> (block, first, last) -> accumulateKernelGradient(g, tables, x, dy, block, first, last));
        // The loop above skips padding and input-dilation zeros; a non-finite dy over one is NaN (0 * Inf).
        ImplicitZeros.kernelGradient(g, outputGradient, kernelGradient);
    }

    /**
     * {@link #kernelGradient(ConvGeometry, float[], float[], float[])} of 16-bit operands (issue 26), {@code input}
     * and {@code outputGradient} holding {@code dtype}'s bits, into float32 {@code kernelGradient} (which the caller
     * rounds), converted inside the workers: each block of positions decodes its rows of the output gradient into a
     * float scratch, and the input values as it reads them. 16-bit values are exact in TF32, so its rounding is
     * moot. The output gradient must be finite: the products with padding zeros that a non-finite one makes NaN
     * are not written here (its caller takes the whole-array route for such a call).
     */
    public static void kernelGradient(ConvGeometry g, DType dtype, short[] input, short[] outputGradient,
            float[] kernelGradient) {
        long pairs = (long) g.batch() * g.outputSpatialSize();
        if (pairs == 0 || kernelGradient.length == 0) {
            Arrays.fill(kernelGradient, 0f);
            return;
        }
        SourceTables tables = new SourceTables(g);
        int cout = g.outChannels();
        reduceKernelGradient(g, pairs, kernelGradient, () -> {
            float[] dyRows = new float[FLOAT_BLOCK * cout];
            return (block, first, last) -> {
                HalfFloats.decode(dtype, outputGradient, first * cout, dyRows, 0, (last - first) * cout);
                accumulateKernelGradient(g, tables, dtype, input, dyRows, first, block, first, last);
            };
        });
    }

    /** Accumulates the float products of positions {@code [first, last)} into a worker's {@code block}. */
    @FunctionalInterface
    private interface BlockAccumulator {
        void accumulate(float[] block, int first, int last);
    }

    /**
     * The kernel gradient's reduction over {@code pairs} (batch, output position) pairs: one contiguous slice per
     * worker, summed block by block ({@link #FLOAT_BLOCK} positions in float) into the worker's double partial,
     * the partials added in a fixed order into {@code kernelGradient}. Each worker takes its accumulator (and the
     * scratch it holds) from {@code accumulators}.
     */
    private static void reduceKernelGradient(ConvGeometry g, long pairs, float[] kernelGradient,
            Supplier<BlockAccumulator> accumulators) {
        int kernelLength = kernelGradient.length;
        // Each worker holds a double partial and a float block: 12 bytes per kernel element.
        int workers = workers(pairs, kernelLength, 12);
        double[][] partials = new double[workers][];
        Thread caller = Thread.currentThread();
        CpuWorkers.forEach(workers, w -> {
            double[] partial = new double[kernelLength];
            float[] block = new float[kernelLength];
            BlockAccumulator accumulator = accumulators.get();
            int first = (int) (pairs * w / workers);
            int last = (int) (pairs * (w + 1) / workers);
            for (int start = first; start < last; start += FLOAT_BLOCK) {
                // A worker's slice is the whole call divided by the cores (seconds on a large layer): each block
                // looks at the caller's flag, so that an interrupted backward pass stops as a forward pass does.
                CallerInterrupt.check(caller, "kernel gradient", g);
                accumulator.accumulate(block, start, Math.min(last, start + FLOAT_BLOCK));
                for (int i = 0; i < kernelLength; i++) {
                    partial[i] += block[i];
                    block[i] = 0f;
                }
            }
            partials[w] = partial;
        });
        sumInto(partials, kernelGradient);
    }

    /** Overwrites {@code biasGradient} {@code (C)} with the column sums of {@code outputGradient} {@code (rows, C)}. */
    public static void biasGradient(int rows, int cout, float[] outputGradient, float[] biasGradient) {
        reduceColumns(rows, cout, biasGradient, (partial, from, to) -> {
            for (int p = from; p < to; p++) {
                int base = p * cout;
                for (int co = 0; co < cout; co++) {
                    partial[co] += outputGradient[base + co];
                }
            }
        });
    }

    /**
     * {@link #biasGradient(int, int, float[], float[])} of an output gradient holding {@code dtype}'s 16-bit bits
     * (issue 26), decoded by the workers as they read it; the same sums in the same order, float32 result.
     */
    public static void biasGradient(int rows, int cout, DType dtype, short[] outputGradient, float[] biasGradient) {
        reduceColumns(rows, cout, biasGradient, (partial, from, to) -> {
            for (int p = from; p < to; p++) {
                int base = p * cout;
                for (int co = 0; co < cout; co++) {
                    partial[co] += HalfFloats.decode(dtype, outputGradient[base + co]);
                }
            }
        });
    }

    /** Adds the rows {@code [from, to)} of a {@code (rows, C)} matrix into a worker's double {@code partial}. */
    @FunctionalInterface
    private interface RowsAccumulator {
        void accumulate(double[] partial, int from, int to);
    }

    /**
     * The column sums of a {@code (rows, cout)} matrix into {@code columnSums}: one contiguous slice of rows per
     * worker, each summed into its double partial in runs between looks at the caller's interrupt flag, the
     * partials added in a fixed order.
     */
    private static void reduceColumns(int rows, int cout, float[] columnSums, RowsAccumulator accumulator) {
        long pairs = rows;
        if (pairs == 0 || cout == 0) {
            Arrays.fill(columnSums, 0f);
            return;
        }
        int workers = workers(pairs, cout, 8);
        double[][] partials = new double[workers][];
        Thread caller = Thread.currentThread();
        CpuWorkers.forEach(workers, w -> {
            double[] partial = new double[cout];
            int last = (int) (pairs * (w + 1) / workers);
            for (int p = (int) (pairs * w / workers); p < last; ) {
                CallerInterrupt.check(caller, "bias gradient", rows + " rows of " + cout + " channels");
                int end = Math.min(last, (p / INTERRUPT_CHECK_ROWS + 1) * INTERRUPT_CHECK_ROWS);
                accumulator.accumulate(partial, p, end);
                p = end;
            }
            partials[w] = partial;
        });
        sumInto(partials, columnSums);
    }

    private static void accumulateKernelGradient(ConvGeometry g, SourceTables tables, float[] input,
            float[] outputGradient, float[] partial, int first, int last) {
        int rank = g.rank();
        int cin = g.inChannels();
        int cout = g.outChannels();
        int groups = g.groups();
        int cinPerGroup = g.inChannelsPerGroup();
        int coutPerGroup = g.outChannelsPerGroup();
        int taps = g.kernelTaps();
        int[] outPos = new int[rank];
        int[] tap = new int[rank];
        int b = first / tables.outPositions;
        SourceTables.decode(first % tables.outPositions, tables.outSpatial, outPos);
        for (int p = first; p < last; p++) {
            int dyBase = p * cout;
            long inputBase = (long) b * tables.inPositions * cin;
            Arrays.fill(tap, 0);
            for (int t = 0; t < taps; t++) {
                int source = tables.sourcePosition(outPos, tap);
                if (source >= 0) {
                    int inBase = (int) (inputBase + (long) source * cin);
                    int tapBase = t * cinPerGroup * cout;
                    for (int group = 0; group < groups; group++) {
                        int dyGroup = dyBase + group * coutPerGroup;
                        for (int ci = 0; ci < cinPerGroup; ci++) {
                            float x = input[inBase + group * cinPerGroup + ci];
                            int row = tapBase + ci * cout + group * coutPerGroup;
                            for (int co = 0; co < coutPerGroup; co++) {
                                partial[row + co] += x * outputGradient[dyGroup + co];
                            }
                        }
                    }
                }
                SourceTables.increment(tap, tables.kernelSpatial);
            }
            if (!SourceTables.increment(outPos, tables.outSpatial)) {
                b++;
            }
        }
    }

    /**
     * {@link #accumulateKernelGradient(ConvGeometry, SourceTables, float[], float[], float[], int, int)} on 16-bit
     * input bits, decoded as read, and the output gradient of positions {@code [dyFirst, ...)} decoded in
     * {@code dyRows} from its start; the same products in the same order.
     */
    private static void accumulateKernelGradient(ConvGeometry g, SourceTables tables, DType dtype, short[] input,
            float[] dyRows, int dyFirst, float[] partial, int first, int last) {
        int rank = g.rank();
        int cin = g.inChannels();
        int cout = g.outChannels();
        int groups = g.groups();
        int cinPerGroup = g.inChannelsPerGroup();
        int coutPerGroup = g.outChannelsPerGroup();
        int taps = g.kernelTaps();
        int[] outPos = new int[rank];
        int[] tap = new int[rank];
        int b = first / tables.outPositions;
        SourceTables.decode(first % tables.outPositions, tables.outSpatial, outPos);
        for (int p = first; p < last; p++) {
            int dyBase = (p - dyFirst) * cout;
            long inputBase = (long) b * tables.inPositions * cin;
            Arrays.fill(tap, 0);
            for (int t = 0; t < taps; t++) {
                int source = tables.sourcePosition(outPos, tap);
                if (source >= 0) {
                    int inBase = (int) (inputBase + (long) source * cin);
                    int tapBase = t * cinPerGroup * cout;
                    for (int group = 0; group < groups; group++) {
                        int dyGroup = dyBase + group * coutPerGroup;
                        for (int ci = 0; ci < cinPerGroup; ci++) {
                            float x = HalfFloats.decode(dtype, input[inBase + group * cinPerGroup + ci]);
                            int row = tapBase + ci * cout + group * coutPerGroup;
                            for (int co = 0; co < coutPerGroup; co++) {
                                partial[row + co] += x * dyRows[dyGroup + co];
                            }
                        }
                    }
                }
                SourceTables.increment(tap, tables.kernelSpatial);
            }
            if (!SourceTables.increment(outPos, tables.outSpatial)) {
                b++;
            }
        }
    }

    /** Workers for {@code pairs} positions, each holding {@code bytesPerElement} per partial element. */
    private static int workers(long pairs, int partialLength, int bytesPerElement) {
        long byWork = Math.max(1, pairs / MIN_POSITIONS_PER_WORKER);
        long byMemory = Math.max(1, PARTIALS_BUDGET_BYTES / ((long) bytesPerElement * partialLength));
        // The caller thread is one of CpuWorkers' threads.
        long cores = CpuWorkers.threads();
        return (int) Math.min(Math.min(byWork, byMemory), cores);
    }

    private static void sumInto(double[][] partials, float[] result) {
        for (int i = 0; i < result.length; i++) {
            double sum = 0;
            for (double[] partial : partials) {
                sum += partial[i];
            }
            result[i] = (float) sum;
        }
    }
}
