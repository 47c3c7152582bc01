package org.convcl.diagnostics;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.SplittableRandom;
import org.convcl.nn.Conv;
import org.convcl.ConvSpec;
import org.convcl.Tensor;
import org.convcl.backend.ConvBackend;
import org.convcl.opencl.DeviceTensor;
import org.convcl.opencl.OpenClBackend;
import org.convcl.opencl.internal.runtime.NativeResources;

/**
 * A long run of small convolutions that shows whether anything leaks: forward and backward calls on host
 * arrays and, on OpenCL, device-tensor calls that upload, chain and download. It records the library's
 * live native object counts and the process's resident memory as it goes. Not thread-safe; run one at a
 * time.
 */
public final class Soak {
    private Soak() {
    }

    /** One sample taken during the run. */
    public record Sample(int callsDone, NativeResources.Counts counts, OptionalLong residentBytes) {
    }

    /**
     * What a run saw: counts before it, samples, and counts after the layers were closed (releasing their
     * device copies) and the backend's pooled buffers were released. Compiled plans (with their small index
     * tables) stay cached in the backend until it is closed, so only closing the backend brings the counts back
     * to {@code before}.
     */
    public record Report(NativeResources.Counts before, List<Sample> samples, NativeResources.Counts after) {
        /** Whether every sample holds the same live objects as the first: nothing accumulates per call. */
        public boolean countsFlat() {
            return samples.stream().allMatch(sample -> sample.counts().equals(samples.get(0).counts()));
        }

        /** Resident growth from the sample at a quarter of the run to the last one (warm-up excluded). */
        public OptionalLong residentGrowthAfterWarmup() {
            if (samples.size() < 2) {
                return OptionalLong.empty();
            }
            Sample warm = samples.get(samples.size() / 4);
            Sample last = samples.get(samples.size() - 1);
            if (warm.residentBytes().isEmpty() || last.residentBytes().isEmpty()) {
                return OptionalLong.empty();
            }
            return OptionalLong.of(last.residentBytes().getAsLong() - warm.residentBytes().getAsLong());
        }
    }

    /**
     * Runs {@code calls} iterations on {@code backend}, sampling every {@code sampleEvery}. Each iteration
     * is a forward and a backward call on host arrays, plus (on OpenCL) a chained device-tensor call.
     */
    public static Report run(ConvBackend backend, int calls, int sampleEvery) {
        if (calls < 1) {
            throw new IllegalArgumentException("calls: got " + calls + "; must be >= 1");
        }
        if (sampleEvery < 1) {
            throw new IllegalArgumentException("sampleEvery: got " + sampleEvery + "; must be >= 1");
        }
        NativeResources.Counts before = NativeResources.snapshot();
        SplittableRandom random = new SplittableRandom(7);
        Tensor x = random(random, 2, 9, 7, 3);
        Tensor dy = random(random, 2, 5, 4, 4);
        List<Sample> samples = new ArrayList<>();
        OpenClBackend openCl = backend instanceof OpenClBackend device ? device : null;
        // Closing the layers releases their device copies, so that the last counts show only what the backend keeps.
        try (Conv layer = Conv.builder(random(random, 3, 3, 3, 4)).bias(random(random, 4))
                        .spec(ConvSpec.builder().strides(2).build()).backend(backend).build();
                Conv chained = Conv.builder(random(random, 1, 1, 4, 4)).backend(backend).build()) {
            for (int call = 0; call < calls; call++) {
                layer.apply(x);
                layer.backward(x, dy);
                if (openCl != null) {
                    try (DeviceTensor input = openCl.upload(x);
                            DeviceTensor hidden = layer.apply(input);
                            DeviceTensor output = chained.apply(hidden)) {
                        output.download();
                    }
                }
                if ((call + 1) % sampleEvery == 0 || call + 1 == calls) {
                    samples.add(new Sample(call + 1, NativeResources.snapshot(), ResidentMemory.bytes()));
                }
            }
        }
        if (openCl != null) {
            openCl.trimMemory();
        }
        return new Report(before, samples, NativeResources.snapshot());
    }

    private static Tensor random(SplittableRandom random, int... shape) {
        float[] values = new float[(int) Tensor.elementCount(shape)];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (random.nextDouble() * 2 - 1);
        }
        return Tensor.of(values, shape);
    }
}
