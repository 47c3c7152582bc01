package org.convcl.backend.internal;

import org.convcl.backend.cpu.CpuBackend;
import java.util.Arrays;
import org.convcl.ConvGeometry;
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
        // Each worker holds a double partial and a float block: 12 bytes per kernel element.
        int workers = workers(pairs, kernelLength, 12);
        double[][] partials = new double[workers][];
        Thread caller = Thread.currentThread();
        CpuWorkers.forEach(workers, w -> {
            double[] partial = new double[kernelLength];
            float[] block = new float[kernelLength];
            int first = (int) (pairs * w / workers);
            int last = (int) (pairs * (w + 1) / workers);
            for (int start = first; start < last; start += FLOAT_BLOCK) {
                // A worker's slice is the whole call divided by the cores (seconds on a large layer): each block
                // looks at the caller's flag, so that an interrupted backward pass stops as a forward pass does.
                CallerInterrupt.check(caller, "kernel gradient", g);
                accumulateKernelGradient(g, tables, x, dy, block, start,
                        Math.min(last, start + FLOAT_BLOCK));
                for (int i = 0; i < kernelLength; i++) {
                    partial[i] += block[i];
                    block[i] = 0f;
                }
            }
            partials[w] = partial;
        });
        sumInto(partials, kernelGradient);
        // The loop above skips padding and input-dilation zeros; a non-finite dy over one is NaN (0 * Inf).
        ImplicitZeros.kernelGradient(g, outputGradient, kernelGradient);
    }

    /** Overwrites {@code biasGradient} {@code (C)} with the column sums of {@code outputGradient} {@code (rows, C)}. */
    public static void biasGradient(int rows, int cout, float[] outputGradient, float[] biasGradient) {
        long pairs = rows;
        if (pairs == 0 || cout == 0) {
            Arrays.fill(biasGradient, 0f);
            return;
        }
        int workers = workers(pairs, cout, 8);
        double[][] partials = new double[workers][];
        Thread caller = Thread.currentThread();
        CpuWorkers.forEach(workers, w -> {
            double[] partial = new double[cout];
            int last = (int) (pairs * (w + 1) / workers);
            for (int p = (int) (pairs * w / workers); p < last; p++) {
                if (p % INTERRUPT_CHECK_ROWS == 0) {
                    CallerInterrupt.check(caller, "bias gradient", rows + " rows of " + cout + " channels");
                }
                int base = p * cout;
                for (int co = 0; co < cout; co++) {
                    partial[co] += outputGradient[base + co];
                }
            }
            partials[w] = partial;
        });
        sumInto(partials, biasGradient);
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
