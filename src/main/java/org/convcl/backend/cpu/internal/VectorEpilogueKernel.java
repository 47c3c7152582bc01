package org.convcl.backend.cpu.internal;

import org.convcl.Epilogue;
import org.convcl.backend.internal.HostEpilogue;

/**
 * {@link EpilogueKernel} on the Vector API: one pass over the range, each vector of an output position's channels
 * scaled, shifted, added to the residual and activated before it is stored back, for the piecewise-linear
 * activations (identity, relu, relu6, leaky_relu); the others, whose transcendental functions dominate anyway, use
 * {@code HostEpilogue}'s loops. Lane-wise multiply and add round as the scalar operations do, and {@code max}/{@code
 * min} are {@code Math.max}/{@code Math.min} lane by lane, so the bits are {@code HostEpilogue.apply}'s. One pass
 * instead of one loop per stage matters where channels are few: a stage loop per position costs its setup each time.
 * The vector loop is the one the kernels' stores use ({@link VectorStoreEpilogue}). Loaded by name (CpuKernels)
 * so that the Java path links without the incubator module.
 */
final class VectorEpilogueKernel implements EpilogueKernel {
    @Override
    public void apply(Epilogue<float[]> epilogue, int channels, float[] output, int from, int to) {
        StoreEpilogue store = StoreEpilogue.of(epilogue, channels, output);
        if (store != null) {
            apply(store, from, to);
        }
    }

    @Override
    public void apply(StoreEpilogue store, int from, int to) {
        if (from >= to) {
            return;
        }
        Epilogue<float[]> epilogue = store.epilogue();
        int channels = store.channels();
        float[] output = store.output();
        if (!store.appliesInStores()) {
            HostEpilogue.apply(epilogue, channels, output, from, to);
            return;
        }
        if (epilogue.scale() == null && epilogue.shift() == null) {
            // Nothing per channel: the whole range is one run.
            VectorStoreEpilogue.apply(store, output, from, 0, to - from);
            return;
        }
        for (int i = from, c = from % channels; i < to; i += channels - c, c = 0) {
            VectorStoreEpilogue.apply(store, output, i, c, Math.min(to - i, channels - c));
        }
    }
}
