package org.convcl.opencl;

import org.convcl.opencl.device.OpenClDevice;
import java.io.DataOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.convcl.ConvGeometry;
import org.convcl.ConvSpec;
import org.convcl.Precision;
import org.convcl.Tensor;
import org.convcl.opencl.internal.plan.KernelConfig;
import org.convcl.opencl.internal.plan.Tiling;
import org.convcl.opencl.internal.tuning.TuningDatabase;

/**
 * Calls whose default config is the warp-level mma path, in a JVM of its own, for {@link ProvenVariantsTest}: the
 * device's tuning database (in {@code convcl.cache.dir}) names an mma tiling for {@link #GEOMETRY}, which on PoCL
 * is the emulated mma variant, so the first call probes that variant. Two backends in turn each make the call (the
 * first from {@link #CONCURRENT_CALLS} threads at once, which must agree bit for bit); what they computed and with
 * which config goes to the results directory ({@code out0.bin}, {@code out1.bin}: big-endian
 * floats; {@code configs.txt}). Separate JVMs let the test read what was logged (the WARN), what the compiler wrote
 * to the native standard error, and whether a second process probes again.
 *
 * <p>Arguments: the index of the OpenCL device (in {@link DeviceDiscovery}'s order) and the results directory.
 */
public final class ProbedVariantCalls {
    /** A TF32 call with K tiles inside taps, two batch elements and edges on both spatial dims. */
    static final ConvGeometry GEOMETRY = ConvSpec.builder().precision(Precision.TF32).build()
            .resolve(new int[] {2, 7, 5, 16}, new int[] {3, 3, 16, 24});
    /** An mma tiling the emulated variant computes right on PoCL (one of Tf32OpenClTest's). */
    static final KernelConfig.Gemm MMA = new KernelConfig.Gemm(new Tiling(32, 16, 16, 4, 2, 1, 2, 4, 2, true));

    /** Threads making the first backend's first call at once. */
    static final int CONCURRENT_CALLS = 4;
    /** The exit status when concurrent calls computed different bits. */
    static final int CONCURRENT_CALLS_DIFFER = 5;

    private ProbedVariantCalls() {
    }

    /** The operands: input, kernel, bias. */
    static float[][] operands() {
        SplittableRandom random = new SplittableRandom(4);
        long[] sizes = {Tensor.elementCount(GEOMETRY.inputShape()), Tensor.elementCount(GEOMETRY.kernelShape()),
            GEOMETRY.outChannels()};
        float[][] operands = new float[3][];
        for (int i = 0; i < 3; i++) {
            operands[i] = new float[(int) sizes[i]];
            for (int j = 0; j < operands[i].length; j++) {
                operands[i][j] = (float) (random.nextDouble() * 2 - 1);
            }
        }
        return operands;
    }

    public static void main(String[] args) throws Exception {
        OpenClDevice device = DeviceDiscovery.discover().devices().get(Integer.parseInt(args[0]));
        Path results = Path.of(args[1]);
        TuningDatabase.forDevice(device).record(GEOMETRY, MMA, 1.0, 2.0, 1);
        float[][] operands = operands();
        List<String> configs = new ArrayList<>();
        for (int call = 0; call < 2; call++) {
            try (OpenClBackend backend = OpenClBackend.create(device)) {
                // The first backend's first use comes from several threads at once: one probes, the others wait.
                int threads = call == 0 ? CONCURRENT_CALLS : 1;
                float[][] outputs = new float[threads][(int) Tensor.elementCount(GEOMETRY.outputShape())];
                ExecutorService pool = Executors.newFixedThreadPool(threads);
                try {
                    List<Future<?>> calls = new ArrayList<>();
                    for (float[] output : outputs) {
                        calls.add(pool.submit(() -> backend.forward(GEOMETRY, operands[0], operands[1], operands[2],
                                output)));
                    }
                    for (Future<?> pending : calls) {
                        pending.get();
                    }
                } finally {
                    pool.shutdown();
                }
                for (float[] other : outputs) {
                    if (!Arrays.equals(outputs[0], other)) {
                        System.exit(CONCURRENT_CALLS_DIFFER);
                    }
                }
                float[] output = outputs[0];
                configs.add(backend.plan(GEOMETRY, true).config().toString());
                try (DataOutputStream out = new DataOutputStream(Files.newOutputStream(results.resolve("out" + call
                        + ".bin")))) {
                    for (float value : output) {
                        out.writeFloat(value);
                    }
                }
            }
        }
        Files.write(results.resolve("configs.txt"), configs);
    }
}
