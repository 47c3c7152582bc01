package org.convcl.bench;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.convcl.ConvGeometry;
import org.convcl.DType;
import org.convcl.HalfFloats;
import org.convcl.Precision;
import org.convcl.Tensor;
import org.convcl.backend.ConvBackend;
import org.convcl.opencl.DeviceTensor;
import org.convcl.opencl.OpenClBackend;
import org.convcl.opencl.internal.runtime.KernelEvents;

/**
 * One suite shape timed in float16 or bfloat16 (issue 26), with {@link BenchRunner}'s operands (the same random
 * values, rounded to the type) and its rules: warm-up, medians, the output poisoned with NaN before every run. On
 * an OpenCL device, {@code ms} is host float32 arrays in and out (uploaded and rounded, convolved, the output
 * widened back to float32 on download), and {@code device_ms} and {@code call_ms} come from one call on resident
 * 16-bit tensors, as for float32. On the Java path, {@code ms} is its 16-bit host form on {@code short[]} bits in and
 * out (the operands rounded once, before the clock), which converts inside its tasks; there is no device time.
 * {@code max_rel_err} is against float64 on the operands rounded to the type, so it judges the device's arithmetic
 * and its output's rounding, not the rounding of the inputs. The chain and the epilogue are timed on float32 runs
 * only (a 16-bit run leaves them unmeasured, though the layers and the fused epilogue compute in 16 bits).
 */
public final class HalfBenchRun {
    private final ConvBackend backend;
    private final DType dtype;
    private final int reps;
    private final int warmups;

    public HalfBenchRun(ConvBackend backend, DType dtype, int reps, int warmups) {
        if (dtype == null || dtype == DType.FLOAT32) {
            throw new IllegalArgumentException("dtype: got " + dtype + "; expected FLOAT16 or BFLOAT16 (float32 runs "
                    + "through BenchRunner)");
        }
        if (reps < 1) {
            throw new IllegalArgumentException("reps: got " + reps + "; must be >= 1");
        }
        this.backend = backend;
        this.dtype = dtype;
        this.reps = reps;
        this.warmups = Math.max(0, warmups);
    }

    /** {@code shape} at {@code batch}, stored in this run's type. */
    public BenchResult run(BenchShape shape, int batch) {
        return backend instanceof OpenClBackend device ? onDevice(device, shape, batch) : onHost(shape, batch);
    }

    /** On the Java path (or another host backend): the 16-bit host form, timed on bits rounded beforehand. */
    private BenchResult onHost(BenchShape shape, int batch) {
        BenchRunner.Prepared work = BenchRunner.prepare(shape, batch, Precision.HIGHEST,
                new SplittableRandom(shape.name().hashCode()));
        ConvGeometry g = work.geometry();
        short[] input = HalfFloats.encode(dtype, work.input());
        short[] kernel = HalfFloats.encode(dtype, work.kernel());
        short[] bias = HalfFloats.encode(dtype, work.bias());
        BenchRunner.Prepared rounded = new BenchRunner.Prepared(work.spec(), g, rounded(work.input()),
                rounded(work.kernel()), rounded(work.bias()));
        short[] output = new short[(int) Tensor.elementCount(g.outputShape())];
        short nan = HalfFloats.encode(dtype, Float.NaN);
        Runnable call = () -> backend.forward(g, dtype, input, kernel, bias, output);
        double[] times = new double[reps];
        for (int i = -warmups; i < reps; i++) {
            Arrays.fill(output, nan);
            long start = System.nanoTime();
            call.run();
            if (i >= 0) {
                times[i] = (System.nanoTime() - start) / 1e6;
            }
            BenchRunner.requireWritten(shape, HalfFloats.decode(dtype, output), dtype.cliName() + " host");
        }
        double maxRelErr = BenchRunner.maxRelativeError(rounded, HalfFloats.decode(dtype, output), null);
        long heapPerCall = HeapCounter.allocatedBy(call);
        return new BenchResult(shape.name(), batch, g.flops() / 1e9, BenchRunner.median(times), Double.NaN,
                Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, notMeasured(), maxRelErr,
                heapPerCall, BenchRunner.bytesPerCall(g, dtype.bytes()), 0);
    }

    /** On an OpenCL device: float32 host arrays in and out, then resident 16-bit tensors. */
    private BenchResult onDevice(OpenClBackend backend, BenchShape shape, int batch) {
        BenchRunner.Prepared work = BenchRunner.prepare(shape, batch, Precision.HIGHEST,
                new SplittableRandom(shape.name().hashCode()));
        ConvGeometry g = work.geometry();
        Tensor input = Tensor.of(work.input(), g.inputShape());
        Tensor kernel = Tensor.of(work.kernel(), g.kernelShape());
        Tensor bias = Tensor.of(work.bias(), g.outChannels());
        BenchRunner.Prepared rounded = new BenchRunner.Prepared(work.spec(), g, rounded(work.input()),
                rounded(work.kernel()), rounded(work.bias()));

        float[][] hostOutput = new float[1][];
        Runnable hostCall = () -> {
            try (DeviceTensor x = DeviceTensor.upload(backend, input, dtype);
                    DeviceTensor w = DeviceTensor.upload(backend, kernel, dtype);
                    DeviceTensor b = DeviceTensor.upload(backend, bias, dtype);
                    DeviceTensor y = DeviceTensor.allocate(backend, dtype, g.outputShape())) {
                backend.forward(g, x, w, b, y);
                hostOutput[0] = y.download().data();
            }
        };
        double[] hostTimes = new double[reps];
        for (int i = -warmups; i < reps; i++) {
            long start = System.nanoTime();
            hostCall.run();
            if (i >= 0) {
                hostTimes[i] = (System.nanoTime() - start) / 1e6;
            }
            BenchRunner.requireWritten(shape, hostOutput[0], dtype.cliName() + " host");
        }
        double maxRelErr = BenchRunner.maxRelativeError(rounded, hostOutput[0], null);
        long heapPerCall = HeapCounter.allocatedBy(hostCall);

        double[] walls = new double[reps];
        double[] kernels = new double[reps];
        float[] nan = new float[(int) Tensor.elementCount(g.outputShape())];
        Arrays.fill(nan, Float.NaN);
        Tensor poison = Tensor.of(nan, g.outputShape());
        try (DeviceTensor x = DeviceTensor.upload(backend, input, dtype);
                DeviceTensor w = DeviceTensor.upload(backend, kernel, dtype);
                DeviceTensor b = DeviceTensor.upload(backend, bias, dtype);
                DeviceTensor y = DeviceTensor.allocate(backend, dtype, g.outputShape())) {
            for (int i = -warmups; i < reps; i++) {
                y.write(poison);
                // A 16-bit write is rounded by a kernel of its own: finish it before the clock starts.
                backend.finish();
                long start = System.nanoTime();
                double kernelMillis = KernelEvents.deviceMillis(() -> backend.forward(g, x, w, b, y));
                double wallMillis = (System.nanoTime() - start) / 1e6;
                if (i >= 0) {
                    walls[i] = wallMillis;
                    kernels[i] = kernelMillis;
                }
            }
            float[] resident = y.download().data();
            BenchRunner.requireWritten(shape, resident, dtype.cliName() + " device");
            maxRelErr = Math.max(maxRelErr, BenchRunner.maxRelativeError(rounded, resident, null));
        }
        return new BenchResult(shape.name(), batch, g.flops() / 1e9, BenchRunner.median(hostTimes),
                BenchRunner.median(kernels), BenchRunner.median(walls), Double.NaN, Double.NaN, Double.NaN,
                Double.NaN, Double.NaN, notMeasured(), maxRelErr, heapPerCall,
                BenchRunner.bytesPerCall(g, dtype.bytes()), 0);
    }

    private String notMeasured() {
        return "chain_ms, epilogue_ms, unfused_ms, activation_ms and inplace_ms not measured: the bench times them on "
                + "float32 runs only, not " + dtype.cliName();
    }

    /** {@code values} rounded to this run's type, as float32 holds them: the reference's operands. */
    private float[] rounded(float[] values) {
        return HalfFloats.decode(dtype, HalfFloats.encode(dtype, values));
    }

    /**
     * The default {@code --max-error} for {@code dtype}: its unit roundoff (2^-11 for float16, 2^-8 for bfloat16),
     * the store's rounding of an output as large as the largest, plus float32's own 1e-4 for the accumulation,
     * which is float32's whatever the storage; against float64 on the rounded operands nothing else differs.
     */
    public static double defaultMaxError(DType dtype) {
        return switch (dtype) {
            case FLOAT32 -> 1e-4;
            case FLOAT16 -> 0x1p-11 + 1e-4;
            case BFLOAT16 -> 0x1p-8 + 1e-4;
        };
    }
}
