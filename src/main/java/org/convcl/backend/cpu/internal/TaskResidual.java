package org.convcl.backend.cpu.internal;

import java.util.function.Consumer;
import java.util.function.IntConsumer;

/**
 * The in-place residual add ({@code residual == output}) for a task that writes one part of the output: the task
 * copies its part of the residual into its thread's array before its first store and applies the epilogue from
 * that copy ({@link StoreEpilogue#overTileResidual}). Its kernels store raw or partial sums over the output before
 * they add the residual (a register block's sums, a matrix multiply's reduction chunks), which would otherwise be
 * read back as the residual. The copy is the task's part only, read once from memory as the residual would be and
 * reread from cache: the alternative, a copy of the whole residual per call, moved the output's bytes twice more
 * (the bench's depthwise3x3 in place took 2.9 times its bare call).
 *
 * <p>Only for stores that apply the epilogue themselves ({@link StoreEpilogue#appliesInStores}): {@link
 * StoreEpilogue#apply} over a range reads the call's residual.
 */
final class TaskResidual {
    /** Each thread's copy, grown to the largest part its tasks have copied. */
    private static final ThreadLocal<float[]> COPY = ThreadLocal.withInitial(() -> new float[0]);

    private TaskResidual() {
    }

    /**
     * {@code store} over a copy of {@code output[from, to)} (a row segment, every channel), taken now: the store a
     * task writing that range applies when {@code store}'s residual is the output, else {@code store} itself.
     */
    static StoreEpilogue overRange(StoreEpilogue store, float[] output, int from, int to) {
        if (store == null || !store.residualIsOutput()) {
            return store;
        }
        float[] copy = copy(to - from);
        System.arraycopy(output, from, copy, 0, to - from);
        return store.overTileResidual(copy, from);
    }

    /**
     * {@code store} over a copy of the tile {@code [mFrom, mTo) x [nFrom, nTo)} of a {@code [M, channels]} output,
     * taken now, at the tile's offsets less {@code mFrom * channels}: only the tile's own channels, as other tiles
     * of the same rows write theirs meanwhile. {@code store} itself when its residual is not the output.
     */
    static StoreEpilogue overTile(StoreEpilogue store, float[] output, int channels, int mFrom, int mTo, int nFrom,
            int nTo) {
        if (store == null || !store.residualIsOutput()) {
            return store;
        }
        float[] copy = copy((mTo - mFrom) * channels);
        for (int m = mFrom; m < mTo; m++) {
            System.arraycopy(output, m * channels + nFrom, copy, (m - mFrom) * channels + nFrom, nTo - nFrom);
        }
        return store.overTileResidual(copy, mFrom * channels);
    }

    /**
     * {@code store} over a copy of the residual at the output positions {@code positions} lists (flat positions,
     * each with every channel), taken now, for a task whose outputs are scattered (a Winograd block's tiles): the
     * copy spans the listed positions' range, at their offsets less the first one's, but only the task's own
     * positions are copied and read. {@code store} itself when its residual is not the output.
     */
    static StoreEpilogue overPositions(StoreEpilogue store, float[] output, int channels,
            Consumer<IntConsumer> positions) {
        if (store == null || !store.residualIsOutput()) {
            return store;
        }
        int[] span = {Integer.MAX_VALUE, -1};
        positions.accept(p -> {
            span[0] = Math.min(span[0], p);
            span[1] = Math.max(span[1], p);
        });
        if (span[1] < 0) {
            return store; // the task writes no output
        }
        int base = span[0] * channels;
        float[] copy = copy((span[1] - span[0] + 1) * channels);
        positions.accept(p -> System.arraycopy(output, p * channels, copy, p * channels - base, channels));
        return store.overTileResidual(copy, base);
    }

    /**
     * Puts back the residual that {@code view} (from {@link #overPositions}) copied, at the same positions: for a
     * task that stored over them and must leave the output as it found it.
     */
    static void restorePositions(StoreEpilogue view, float[] output, int channels, Consumer<IntConsumer> positions) {
        positions.accept(p -> System.arraycopy(view.residual, p * channels - view.residualBase, output, p * channels,
                channels));
    }

    private static float[] copy(int length) {
        float[] copy = COPY.get();
        if (copy.length < length) {
            copy = new float[length];
            COPY.set(copy);
        }
        return copy;
    }
}
