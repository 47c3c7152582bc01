package org.convcl.backend.cpu.internal;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The fast CPU kernel, on the JDK's Vector API: a register block of 4 output positions by 4 vectors of
 * output channels (16 accumulators) stays in registers through the whole reduction over kernel taps and
 * input channels, so each input value loaded feeds 4 vector FMAs and each kernel vector feeds 4. Output
 * channels that do not fill a 4-vector block take a 1-vector block, then a scalar tail.
 *
 * <p>The 4-vector blocks read the kernel {@link #prepare packed}: each block's columns contiguous, step after
 * step, so that the reduction streams its kernel panel sequentially instead of reading 4 vectors every
 * {@code Cout} floats (a 1 KiB stride at 256 channels, which the hardware prefetchers follow badly).
 *
 * <p>Loaded only when the {@code jdk.incubator.vector} module is present (see {@link CpuKernels}).
 */
final class VectorConvKernel implements RowKernel {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();
    private static final int POSITIONS = 4;
    /** Channels of a 4-vector block: the width of a packed kernel panel. */
    private static final int BLOCK = 4 * LANES;

    /** Floats per vector on this machine (tests size their channel counts by it). */
    static int lanes() {
        return LANES;
    }

    /**
     * The kernel as given, followed by a packed copy of every 4-vector channel block: for group {@code g} and
     * block {@code b}, a panel of {@code taps x Cin/groups} steps of {@link #BLOCK} floats, at
     * {@link #panelBase}. Costs one pass over the kernel per call, small beside the convolution's FLOPs.
     */
    @Override
    public float[] prepare(ConvRows rows, float[] kernel) {
        int blocks = rows.outPerGroup / BLOCK;
        if (blocks == 0) {
            return kernel;
        }
        int steps = rows.outerTaps * rows.kernelLast * rows.inPerGroup;
        float[] prepared = java.util.Arrays.copyOf(kernel, kernel.length + rows.groups * blocks * steps * BLOCK);
        int at = kernel.length;
        for (int group = 0; group < rows.groups; group++) {
            for (int block = 0; block < blocks; block++) {
                int column = group * rows.outPerGroup + block * BLOCK;
                for (int step = 0; step < steps; step++) {
                    System.arraycopy(kernel, step * rows.outChannels + column, prepared, at, BLOCK);
                    at += BLOCK;
                }
            }
        }
        return prepared;
    }

    /** Where the packed panel of {@code group}'s 4-vector block starting at {@code channel} begins. */
    private static int panelBase(ConvRows rows, int group, int channel) {
        int steps = rows.outerTaps * rows.kernelLast * rows.inPerGroup;
        int kernelLength = steps * rows.outChannels;
        return kernelLength + (group * (rows.outPerGroup / BLOCK) + channel / BLOCK) * steps * BLOCK;
    }

    @Override
    public boolean appliesEpilogue() {
        return true;
    }

    @Override
    public void computeRow(ConvRows rows, int row, int from, int to, float[] input, float[] kernel, float[] bias,
            float[] output, Scratch scratch, StoreEpilogue epilogue) {
        int b = row / rows.outerCount;
        int outer = row % rows.outerCount;
        int validTaps = rows.validOuterTaps(outer, scratch.sourceOffset, scratch.tapIndex);
        int inputBase = b * rows.inputSpatialSize * rows.inChannels;
        int rowBase = row * rows.outLast;
        for (int group = 0; group < rows.groups; group++) {
            int inGroupBase = inputBase + group * rows.inPerGroup;
            int groupChannelBase = group * rows.outPerGroup;
            // Channel blocks outside, positions inside: one block's kernel columns (K x 4 vectors) stay in cache
            // across the row's positions, where the other order streams the whole kernel per 4 positions
            // (2.4 MB for 256 -> 256 channels under a 3x3 kernel, more than a core's L2).
            int channel = 0;
            if (PatchPanel.applies(rows, BLOCK)) {
                // Few input channels (an RGB stem): the 4-vector blocks read patches, one straight run each.
                channel = patchRow(rows, validTaps, scratch, inputBase, from, to, input, kernel, bias, output,
                        rowBase, epilogue);
            }
            // With an epilogue the 4-vector blocks store into the thread's stage first (StoredBlockFinish).
            float[] stage = epilogue != null ? StoredBlockFinish.threadStage() : null;
            while (channel + LANES <= rows.outPerGroup) {
                // 4-vector blocks while the channels last, then 1-vector blocks, then the scalar tail below.
                boolean wide = channel + 4 * LANES <= rows.outPerGroup;
                int channelBase = groupChannelBase + channel;
                for (int o = firstBlock(from, to); o >= 0; o = nextBlock(rows, o, from, to)) {
                    int[] p = blockPositions(rows, o, to, scratch);
                    int taps = wide
                            ? buildReductionList(rows, validTaps, scratch, inGroupBase, panelBase(rows, group, channel),
                                    rows.inPerGroup * BLOCK, p[0], p[1], p[2], p[3], input)
                            : buildReductionList(rows, validTaps, scratch, inGroupBase, channelBase,
                                    rows.inPerGroup * rows.outChannels, p[0], p[1], p[2], p[3], input);
                    if (wide) {
                        block4x4(rows, taps, scratch, channelBase, p[0], p[1], p[2], p[3], kernel, bias, output,
                                rowBase, epilogue, stage);
                    } else {
                        block4x1(rows, taps, scratch, channelBase, p[0], p[1], p[2], p[3], kernel, bias, output,
                                rowBase, epilogue);
                    }
                }
                channel += wide ? 4 * LANES : LANES;
            }
            if (channel < rows.outPerGroup) {
                for (int o = firstBlock(from, to); o >= 0; o = nextBlock(rows, o, from, to)) {
                    ScalarConvKernel.positionsTail(rows, validTaps, scratch, inGroupBase, group, channel,
                            blockPositions(rows, o, to, scratch), input, kernel, bias, output, rowBase);
                }
                if (epilogue != null) {
                    // Once per position here: the blocks above repeat a segment's last position.
                    tailEpilogue(rows, epilogue, rowBase, from, to, groupChannelBase + channel,
                            groupChannelBase + rows.outPerGroup, output);
                }
            }
        }
    }

    /** The epilogue of channels {@code [first, end)} of positions {@code [from, to)}, written by the scalar tail. */
    private static void tailEpilogue(ConvRows rows, StoreEpilogue epilogue, int rowBase, int from, int to, int first,
            int end, float[] output) {
        for (int o = from; o < to; o++) {
            int base = (rowBase + o) * rows.outChannels;
            VectorStoreEpilogue.apply(epilogue, output, base + first, first, end - first);
        }
    }

    /**
     * The row segment's 4-vector channel blocks through {@link PatchPanel patch panels}, a segment of positions
     * at a time; returns the first channel left for the other blocks. Only for one group.
     */
    private static int patchRow(ConvRows rows, int validTaps, Scratch scratch, int inputBase, int from, int to,
            float[] input, float[] kernel, float[] bias, float[] output, int rowBase, StoreEpilogue epilogue) {
        int wideEnd = rows.outChannels / BLOCK * BLOCK;
        int steps = PatchPanel.steps(rows);
        int segment = PatchPanel.segmentPositions(rows);
        float[] panel = PatchPanel.threadPanel(segment * steps);
        // With a bias or an epilogue the blocks store into the thread's stage first (StoredBlockFinish says why).
        float[] stage = bias != null || epilogue != null ? StoredBlockFinish.threadStage() : null;
        for (int start = from; start < to; start += segment) {
            int end = Math.min(to, start + segment);
            PatchPanel.fill(rows, validTaps, scratch, inputBase, start, end, input, panel);
            int last = end - 1 - start;
            for (int channel = 0; channel < wideEnd; channel += BLOCK) {
                int panelBase = panelBase(rows, 0, channel);
                for (int o = 0; o <= last; o += POSITIONS) {
                    patchBlock4x4(steps, panel, o * steps, Math.min(o + 1, last) * steps,
                            Math.min(o + 2, last) * steps, Math.min(o + 3, last) * steps, kernel, panelBase, bias,
                            channel, output, rows.outChannels, rowBase + start + o, rowBase + start
                                    + Math.min(o + 1, last), rowBase + start + Math.min(o + 2, last),
                            rowBase + start + Math.min(o + 3, last), epilogue, stage);
                }
            }
        }
        return wideEnd;
    }

    /**
     * One 4-position by 4-vector block over patches at {@code i0..i3} in {@code panel}: the reduction is one
     * loop over {@code steps}, the kernel panel read straight from {@code w}. Writes positions
     * {@code q0..q3} (flat output positions, possibly repeated at a segment's end), then {@code epilogue} (when
     * not null) over them.
     */
    static void patchBlock4x4(int steps, float[] panel, int i0, int i1, int i2, int i3, float[] kernel,
            int w, float[] bias, int channel, float[] output, int cout, int q0, int q1, int q2, int q3,
            StoreEpilogue epilogue, float[] stage) {
        FloatVector a00 = FloatVector.zero(SPECIES), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
        FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        for (int step = 0; step < steps; step++) {
            FloatVector w0 = FloatVector.fromArray(SPECIES, kernel, w);
            FloatVector w1 = FloatVector.fromArray(SPECIES, kernel, w + LANES);
            FloatVector w2 = FloatVector.fromArray(SPECIES, kernel, w + 2 * LANES);
            FloatVector w3 = FloatVector.fromArray(SPECIES, kernel, w + 3 * LANES);
            FloatVector v = FloatVector.broadcast(SPECIES, panel[i0 + step]);
            a00 = v.fma(w0, a00);
            a01 = v.fma(w1, a01);
            a02 = v.fma(w2, a02);
            a03 = v.fma(w3, a03);
            v = FloatVector.broadcast(SPECIES, panel[i1 + step]);
            a10 = v.fma(w0, a10);
            a11 = v.fma(w1, a11);
            a12 = v.fma(w2, a12);
            a13 = v.fma(w3, a13);
            v = FloatVector.broadcast(SPECIES, panel[i2 + step]);
            a20 = v.fma(w0, a20);
            a21 = v.fma(w1, a21);
            a22 = v.fma(w2, a22);
            a23 = v.fma(w3, a23);
            v = FloatVector.broadcast(SPECIES, panel[i3 + step]);
            a30 = v.fma(w0, a30);
            a31 = v.fma(w1, a31);
            a32 = v.fma(w2, a32);
            a33 = v.fma(w3, a33);
            w += BLOCK;
        }
        int at0 = q0 * cout + channel;
        int at1 = q1 * cout + channel;
        int at2 = q2 * cout + channel;
        int at3 = q3 * cout + channel;
        // The sums as they are: with a bias or an epilogue into the stage, from which the finish stores each output
        // once (StoredBlockFinish says why not in the registers, and why not twice).
        boolean staged = stage != null;
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

    // A block is POSITIONS positions of one phase class along the last dim: o, o + period, ... (see
    // ConvRows.lastPhasePeriod), so that with input dilation its positions read the same taps and none of
    // them multiplies zeros that another needs skipped. Without input dilation the period is 1: consecutive
    // positions. Blocks walk the classes in turn; each class's positions in [from, to) are covered once.
    // Positions are stepped in longs: the period can be as large as the input dilation (up to 2^31 - 1, e.g.
    // the input gradient of a stride-2^29 layer), and o + 4 * period wrapped around in an int, skipping
    // classes (silent zeros) or indexing below 0.

    /** The first position of the first block in [from, to), or -1 when the range is empty. */
    private static int firstBlock(int from, int to) {
        return from < to ? from : -1;
    }

    /** The first position of the block after the one starting at {@code o}, or -1 after the last. */
    private static int nextBlock(ConvRows rows, int o, int from, int to) {
        int period = rows.lastPhasePeriod;
        long next = o + (long) POSITIONS * period;
        if (next < to) {
            return (int) next;
        }
        // This class is done: the next class starts at the next position after the class's first in [from, to).
        int nextClassStart = from + (o - from) % period + 1;
        return nextClassStart < Math.min(to, from + (long) period) ? nextClassStart : -1;
    }

    /**
     * The block's positions from {@code o}, a period apart; past the row segment's end they repeat the last one
     * of the class (computed twice, stored identically).
     */
    private static int[] blockPositions(ConvRows rows, int o, int to, Scratch scratch) {
        int period = rows.lastPhasePeriod;
        int last = o + (to - 1 - o) / period * period;
        int[] positions = scratch.blockPositions;
        for (int p = 0; p < POSITIONS; p++) {
            positions[p] = (int) Math.min(o + (long) p * period, last);
        }
        return positions;
    }

    /**
     * Lists, for positions o0..o3, the kernel taps that read real input for at least one of them (see
     * {@link Scratch}), merging taps that continue the previous entry in memory; returns how many entries. Tap
     * {@code t}'s kernel rows start at {@code kernelBase + t * stepPerTap}.
     *
     * <p>The taps along the last dim are looked at once per block ({@link #lastDimRuns}), not once per outer tap:
     * which of them read input, and which continue one another, depends on the positions alone. An RGB stem's 7
     * outer taps then cost 7 list entries, not 49 table lookups of four positions each.
     */
    private static int buildReductionList(ConvRows rows, int validTaps, Scratch scratch, int inGroupBase,
            int kernelBase, int stepPerTap, int o0, int o1, int o2, int o3, float[] input) {
        int cin = rows.inChannels;
        int inPerGroup = rows.inPerGroup;
        int runs = lastDimRuns(rows, scratch, o0, o1, o2, o3);
        float[] zeros = scratch.zeros;
        int count = 0;
        int steps = 0;
        for (int i = 0; i < validTaps; i++) {
            int offset = scratch.sourceOffset[i];
            int tapBase = scratch.tapIndex[i] * rows.kernelLast;
            for (int r = 0; r < runs; r++) {
                int s0 = scratch.runSource0[r];
                int s1 = scratch.runSource1[r];
                int s2 = scratch.runSource2[r];
                int s3 = scratch.runSource3[r];
                int length = scratch.runTaps[r] * inPerGroup;
                scratch.blockSource0[count] = s0 < 0 ? zeros : input;
                scratch.blockSource1[count] = s1 < 0 ? zeros : input;
                scratch.blockSource2[count] = s2 < 0 ? zeros : input;
                scratch.blockSource3[count] = s3 < 0 ? zeros : input;
                scratch.blockOffset0[count] = s0 < 0 ? 0 : inGroupBase + (offset + s0) * cin;
                scratch.blockOffset1[count] = s1 < 0 ? 0 : inGroupBase + (offset + s1) * cin;
                scratch.blockOffset2[count] = s2 < 0 ? 0 : inGroupBase + (offset + s2) * cin;
                scratch.blockOffset3[count] = s3 < 0 ? 0 : inGroupBase + (offset + s3) * cin;
                scratch.blockKernelOffset[count] = (tapBase + scratch.runFirstTap[r]) * stepPerTap + kernelBase;
                scratch.blockLength[count] = length;
                steps += length;
                count++;
            }
        }
        scratch.blockSteps = steps;
        return count;
    }

    /**
     * The block's runs along the last kernel dim: maximal stretches of taps that read input for at least one of
     * o0..o3 and, for all four, the next pixel after the previous tap's (so that inputs and kernel rows continue
     * in memory); a tap where some position reads zeros stands alone. Returns how many, in scratch's run arrays.
     */
    private static int lastDimRuns(ConvRows rows, Scratch scratch, int o0, int o1, int o2, int o3) {
        // With groups, a group's channels of the next pixel are not next in memory.
        boolean mergeable = rows.inPerGroup == rows.inChannels;
        int runs = 0;
        int p0 = -1, p1 = -1, p2 = -1, p3 = -1; // the previous tap's sources
        for (int t = 0; t < rows.kernelLast; t++) {
            int s0 = rows.lastSource(o0, t);
            int s1 = rows.lastSource(o1, t);
            int s2 = rows.lastSource(o2, t);
            int s3 = rows.lastSource(o3, t);
            if ((s0 & s1 & s2 & s3) < 0) {
                p0 = -1;
                continue; // all four read zeros
            }
            if (mergeable && (p0 | p1 | p2 | p3 | s0 | s1 | s2 | s3) >= 0 && s0 == p0 + 1 && s1 == p1 + 1
                    && s2 == p2 + 1 && s3 == p3 + 1) {
                scratch.runTaps[runs - 1]++;
            } else {
                scratch.runFirstTap[runs] = t;
                scratch.runSource0[runs] = s0;
                scratch.runSource1[runs] = s1;
                scratch.runSource2[runs] = s2;
                scratch.runSource3[runs] = s3;
                scratch.runTaps[runs] = 1;
                runs++;
            }
            p0 = s0;
            p1 = s1;
            p2 = s2;
            p3 = s3;
        }
        return runs;
    }

    // The reductions below run as ONE flat loop over (tap, input channel) steps, switching taps with a
    // branch inside: C2 (JDK 17) keeps vector accumulators in registers through a single loop but boxes
    // them on the heap across nested loops.

    private static void block4x4(ConvRows rows, int taps, Scratch scratch, int kernelChannelBase, int o0,
            int o1, int o2, int o3, float[] kernel, float[] bias, float[] output, int rowBase,
            StoreEpilogue epilogue, float[] stage) {
        FloatVector a00 = FloatVector.zero(SPECIES), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
        FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        int cout = rows.outChannels;
        int steps = taps == 0 ? 0 : scratch.blockSteps;
        if (steps > 0) {
            int tap = 0;
            int ci = 0;
            int length = scratch.blockLength[0];
            float[] x0 = scratch.blockSource0[0], x1 = scratch.blockSource1[0];
            float[] x2 = scratch.blockSource2[0], x3 = scratch.blockSource3[0];
            int i0 = scratch.blockOffset0[0], i1 = scratch.blockOffset1[0];
            int i2 = scratch.blockOffset2[0], i3 = scratch.blockOffset3[0];
            int w = scratch.blockKernelOffset[0];
            for (int step = 0; step < steps; step++) {
                FloatVector w0 = FloatVector.fromArray(SPECIES, kernel, w);
                FloatVector w1 = FloatVector.fromArray(SPECIES, kernel, w + LANES);
                FloatVector w2 = FloatVector.fromArray(SPECIES, kernel, w + 2 * LANES);
                FloatVector w3 = FloatVector.fromArray(SPECIES, kernel, w + 3 * LANES);
                FloatVector v = FloatVector.broadcast(SPECIES, x0[i0 + ci]);
                a00 = v.fma(w0, a00);
                a01 = v.fma(w1, a01);
                a02 = v.fma(w2, a02);
                a03 = v.fma(w3, a03);
                v = FloatVector.broadcast(SPECIES, x1[i1 + ci]);
                a10 = v.fma(w0, a10);
                a11 = v.fma(w1, a11);
                a12 = v.fma(w2, a12);
                a13 = v.fma(w3, a13);
                v = FloatVector.broadcast(SPECIES, x2[i2 + ci]);
                a20 = v.fma(w0, a20);
                a21 = v.fma(w1, a21);
                a22 = v.fma(w2, a22);
                a23 = v.fma(w3, a23);
                v = FloatVector.broadcast(SPECIES, x3[i3 + ci]);
                a30 = v.fma(w0, a30);
                a31 = v.fma(w1, a31);
                a32 = v.fma(w2, a32);
                a33 = v.fma(w3, a33);
                w += BLOCK;
                if (++ci == length && ++tap < taps) {
                    ci = 0;
                    length = scratch.blockLength[tap];
                    x0 = scratch.blockSource0[tap];
                    x1 = scratch.blockSource1[tap];
                    x2 = scratch.blockSource2[tap];
                    x3 = scratch.blockSource3[tap];
                    i0 = scratch.blockOffset0[tap];
                    i1 = scratch.blockOffset1[tap];
                    i2 = scratch.blockOffset2[tap];
                    i3 = scratch.blockOffset3[tap];
                    w = scratch.blockKernelOffset[tap];
                }
            }
        }
        // Stores are written out here, not in a helper: passing accumulators to a call that C2 does not
        // inline makes it box them. Positions may repeat at a row's end, so the bias goes into the
        // registers, never added to memory twice. The epilogue comes after the last store, when no
        // accumulator is live across its call (one between the stores slowed even the plain call 1.7x).
        FloatVector b0 = FloatVector.zero(SPECIES), b1 = b0, b2 = b0, b3 = b0;
        if (bias != null) {
            b0 = FloatVector.fromArray(SPECIES, bias, kernelChannelBase);
            b1 = FloatVector.fromArray(SPECIES, bias, kernelChannelBase + LANES);
            b2 = FloatVector.fromArray(SPECIES, bias, kernelChannelBase + 2 * LANES);
            b3 = FloatVector.fromArray(SPECIES, bias, kernelChannelBase + 3 * LANES);
        }
        int at0 = (rowBase + o0) * cout + kernelChannelBase;
        int at1 = (rowBase + o1) * cout + kernelChannelBase;
        int at2 = (rowBase + o2) * cout + kernelChannelBase;
        int at3 = (rowBase + o3) * cout + kernelChannelBase;
        // With an epilogue into the stage, from which the finish stores each output once (StoredBlockFinish).
        boolean staged = stage != null;
        float[] target = staged ? stage : output;
        int to0 = staged ? 0 : at0;
        int to1 = staged ? BLOCK : at1;
        int to2 = staged ? 2 * BLOCK : at2;
        int to3 = staged ? 3 * BLOCK : at3;
        a00.add(b0).intoArray(target, to0);
        a01.add(b1).intoArray(target, to0 + LANES);
        a02.add(b2).intoArray(target, to0 + 2 * LANES);
        a03.add(b3).intoArray(target, to0 + 3 * LANES);
        a10.add(b0).intoArray(target, to1);
        a11.add(b1).intoArray(target, to1 + LANES);
        a12.add(b2).intoArray(target, to1 + 2 * LANES);
        a13.add(b3).intoArray(target, to1 + 3 * LANES);
        a20.add(b0).intoArray(target, to2);
        a21.add(b1).intoArray(target, to2 + LANES);
        a22.add(b2).intoArray(target, to2 + 2 * LANES);
        a23.add(b3).intoArray(target, to2 + 3 * LANES);
        a30.add(b0).intoArray(target, to3);
        a31.add(b1).intoArray(target, to3 + LANES);
        a32.add(b2).intoArray(target, to3 + 2 * LANES);
        a33.add(b3).intoArray(target, to3 + 3 * LANES);
        if (staged) {
            StoredBlockFinish.finish(stage, 0, BLOCK, 2 * BLOCK, 3 * BLOCK, output, at0, at1, at2, at3, null,
                    kernelChannelBase, BLOCK, epilogue);
        }
    }

    private static void block4x1(ConvRows rows, int taps, Scratch scratch, int kernelChannelBase, int o0,
            int o1, int o2, int o3, float[] kernel, float[] bias, float[] output, int rowBase,
            StoreEpilogue epilogue) {
        FloatVector a0 = FloatVector.zero(SPECIES), a1 = a0, a2 = a0, a3 = a0;
        int cout = rows.outChannels;
        int steps = taps == 0 ? 0 : scratch.blockSteps;
        if (steps > 0) {
            int tap = 0;
            int ci = 0;
            int length = scratch.blockLength[0];
            float[] x0 = scratch.blockSource0[0], x1 = scratch.blockSource1[0];
            float[] x2 = scratch.blockSource2[0], x3 = scratch.blockSource3[0];
            int i0 = scratch.blockOffset0[0], i1 = scratch.blockOffset1[0];
            int i2 = scratch.blockOffset2[0], i3 = scratch.blockOffset3[0];
            int w = scratch.blockKernelOffset[0];
            for (int step = 0; step < steps; step++) {
                FloatVector w0 = FloatVector.fromArray(SPECIES, kernel, w);
                a0 = FloatVector.broadcast(SPECIES, x0[i0 + ci]).fma(w0, a0);
                a1 = FloatVector.broadcast(SPECIES, x1[i1 + ci]).fma(w0, a1);
                a2 = FloatVector.broadcast(SPECIES, x2[i2 + ci]).fma(w0, a2);
                a3 = FloatVector.broadcast(SPECIES, x3[i3 + ci]).fma(w0, a3);
                w += cout;
                if (++ci == length && ++tap < taps) {
                    ci = 0;
                    length = scratch.blockLength[tap];
                    x0 = scratch.blockSource0[tap];
                    x1 = scratch.blockSource1[tap];
                    x2 = scratch.blockSource2[tap];
                    x3 = scratch.blockSource3[tap];
                    i0 = scratch.blockOffset0[tap];
                    i1 = scratch.blockOffset1[tap];
                    i2 = scratch.blockOffset2[tap];
                    i3 = scratch.blockOffset3[tap];
                    w = scratch.blockKernelOffset[tap];
                }
            }
        }
        FloatVector bv = bias == null ? FloatVector.zero(SPECIES) : FloatVector.fromArray(SPECIES, bias,
                kernelChannelBase);
        int at0 = (rowBase + o0) * cout + kernelChannelBase;
        int at1 = (rowBase + o1) * cout + kernelChannelBase;
        int at2 = (rowBase + o2) * cout + kernelChannelBase;
        int at3 = (rowBase + o3) * cout + kernelChannelBase;
        a0.add(bv).intoArray(output, at0);
        a1.add(bv).intoArray(output, at1);
        a2.add(bv).intoArray(output, at2);
        a3.add(bv).intoArray(output, at3);
        if (epilogue != null) {
            StoredBlockFinish.finish(output, at0, at1, at2, at3, output, at0, at1, at2, at3, null, kernelChannelBase,
                    LANES, epilogue);
        }
    }
}
