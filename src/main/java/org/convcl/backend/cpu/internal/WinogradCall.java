package org.convcl.backend.cpu.internal;

import java.util.function.Consumer;
import java.util.function.IntConsumer;
import org.convcl.ConvGeometry;

/**
 * One forward call through Winograd, when one of the two paths takes it: {@link WinogradTiles} (3-tap kernels at
 * stride 1) first, else {@link WinogradPhases}; the kernel transformed once, the blocks computed as tasks. Made by
 * {@link #prepare}; immutable, its blocks computed from any thread.
 *
 * <p>Under TF32 the operands arrive rounded: in exact arithmetic the tiles compute the same sum of products of
 * rounded operands as the direct kernels, and only float32 rounding differs, as it does with the order of
 * accumulation.
 */
public final class WinogradCall {
    private final WinogradTiles tiles;
    private final TileKernel tileKernel;
    private final WinogradPhases phases;
    private final PhaseKernel phaseKernel;
    private final float[] transformedKernel;

    private WinogradCall(WinogradTiles tiles, TileKernel tileKernel, WinogradPhases phases, PhaseKernel phaseKernel,
            float[] transformedKernel) {
        this.tiles = tiles;
        this.tileKernel = tileKernel;
        this.phases = phases;
        this.phaseKernel = phaseKernel;
        this.transformedKernel = transformedKernel;
    }

    /**
     * The call, or null where neither path takes the geometry (or the Vector API is absent, or Winograd is off),
     * or where the kernel or the bias holds a NaN or an infinity: the transforms would not propagate those as the
     * direct sum does ({@code Inf - Inf}), so such calls go the direct way from the start. The transformed kernel
     * is kept across calls for {@code kernel}'s array ({@link PreparedKernels}).
     */
    public static WinogradCall prepare(ConvGeometry g, KernelOperand kernel, float[] bias) {
        TileKernel tileKernel = CpuKernels.winograd();
        PhaseKernel phaseKernel = CpuKernels.winogradPhases();
        if (tileKernel == null || phaseKernel == null || !finite(bias)) {
            return null;
        }
        WinogradTiles tiles = WinogradTiles.plan(g, tileKernel.channelBlock());
        if (tiles != null) {
            float[] transformed = kernel.prepared(PreparedKernels.Form.WINOGRAD_TILES,
                    values -> tileKernel.transformKernel(tiles, values), true);
            return transformed == null ? null : new WinogradCall(tiles, tileKernel, null, null, transformed);
        }
        WinogradPhases phases = WinogradPhases.plan(g, phaseKernel.channelBlock());
        if (phases != null) {
            float[] transformed = kernel.prepared(PreparedKernels.Form.WINOGRAD_PHASES,
                    values -> phaseKernel.transformKernel(phases, values), true);
            return transformed == null ? null : new WinogradCall(null, null, phases, phaseKernel, transformed);
        }
        return null;
    }

    /** Tasks of the call: one per block of tiles. */
    public int tasks() {
        return tiles != null ? tiles.tasks() : phases.tasks();
    }

    /**
     * Writes the outputs of block {@code task}. Returns false when one came out NaN or infinite (a NaN or an
     * infinity among the inputs always makes one so; so can an overflow in the transforms): the caller must then
     * write the block's outputs from the direct sums ({@link #finishBlock}).
     */
    public boolean computeBlock(int task, float[] input, float[] bias, float[] output) {
        return compute(task, input, bias, output, null);
    }

    /**
     * Whether {@link #computeBlock} with {@code store} reads an in-place residual (one that is the output) before
     * it writes over it: when the kernels' stores apply the epilogue, each block first copies its own positions'
     * residual aside ({@link TaskResidual#overPositions}). Otherwise the caller must hand over a store whose
     * residual is not the output.
     */
    public boolean takesInPlaceResidual(StoreEpilogue store) {
        return store.appliesInStores();
    }

    /**
     * {@link #computeBlock(int, float[], float[], float[])} with {@code store} (when not null) applied to the
     * outputs the block writes: in the kernels' stores where it {@link StoreEpilogue#appliesInStores}, else over
     * the outputs just written, while they are in cache. A block that returns false leaves an in-place residual as
     * it found it, for {@link #finishBlock}.
     */
    public boolean computeBlock(int task, float[] input, float[] bias, float[] output, StoreEpilogue store) {
        boolean inStores = store != null && store.appliesInStores();
        StoreEpilogue kernelStore = inStores ? TaskResidual.overPositions(store, output, channels(), positions(task))
                : null;
        if (!compute(task, input, bias, output, kernelStore)) {
            if (kernelStore != null && kernelStore != store) {
                TaskResidual.restorePositions(kernelStore, output, channels(), positions(task));
            }
            return false;
        }
        if (store != null && !inStores) {
            StoreEpilogue.Runs runs = store.runs();
            if (tiles != null) {
                tiles.forEachOutput(task, runs);
            } else {
                phases.forEachOutput(task, runs);
            }
            runs.flush();
        }
        return true;
    }

    /**
     * Writes block {@code task}'s outputs from {@code sums}, the whole call's sums plus bias computed the direct
     * way, with {@code store} (when not null) applied: for a block that {@link #computeBlock} refused. Its outputs
     * then have the direct way's bits, the other blocks' Winograd's; an in-place residual is read at each value
     * before the value is written.
     */
    public void finishBlock(int task, float[] sums, float[] output, StoreEpilogue store) {
        int channels = channels();
        positions(task).accept(p -> {
            int at = p * channels;
            if (store == null) {
                System.arraycopy(sums, at, output, at, channels);
                return;
            }
            for (int c = 0; c < channels; c++) {
                // An in-place residual is output[at + c] itself, read here before it is written.
                output[at + c] = store.applyTo(sums[at + c], c, at + c);
            }
        });
    }

    /** Output channels of the call. */
    private int channels() {
        return tiles != null ? tiles.outChannels : phases.outChannels;
    }

    /** Lists block {@code task}'s output positions (flat, batch element included) to a consumer. */
    private Consumer<IntConsumer> positions(int task) {
        return tiles != null ? consumer -> tiles.forEachOutput(task, consumer)
                : consumer -> phases.forEachOutput(task, consumer);
    }

    /** The block through the call's kernel, {@code epilogue} (or null) applied in its stores. */
    private boolean compute(int task, float[] input, float[] bias, float[] output, StoreEpilogue epilogue) {
        return tiles != null
                ? tileKernel.computeBlock(tiles, task, input, transformedKernel, bias, output, epilogue)
                : phaseKernel.computeBlock(phases, task, input, transformedKernel, bias, output, epilogue);
    }

    private static boolean finite(float[] bias) {
        if (bias != null) {
            for (float b : bias) {
                if (!Float.isFinite(b)) {
                    return false;
                }
            }
        }
        return true;
    }
}
