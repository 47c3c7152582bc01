import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;

/**
 * Times ONNX Runtime's CPU convolution through its Java API on the models scripts/peers/export_onnx.py wrote, for
 * scripts/bench-vs-peers. Not part of convcl: compiled at run time against the onnxruntime jar fetched from Maven.
 *
 * <pre>java -cp onnxruntime.jar:classes OrtBench MANIFEST REPS WARMUP INTRA_OP_THREADS</pre>
 *
 * MANIFEST has one tab-separated line per shape: name, batch, model, input, reference, input shape, output
 * shape (NCHW, comma-separated), gflop. For each shape: one session (intra-op threads as given, one inter-op
 * thread, all graph optimisations), the input tensor made once over a direct buffer; one run whose output is
 * checked against the reference (shape, and max |y - ref| / max |ref| under 1e-4: exit 1 if not); then WARMUP
 * untimed runs and REPS timed ones, each {@code session.run} plus closing its result (the output stays in ORT's
 * buffer, not copied to a Java array). Prints one JSON object per shape on stdout: name, batch, ms (median),
 * max_rel_err, out_shape; progress on stderr.
 */
public final class OrtBench {
    private static final double TOLERANCE = 1e-4;

    public static void main(String[] args) throws Exception {
        if (args.length != 4) {
            System.err.println("usage: OrtBench MANIFEST REPS WARMUP INTRA_OP_THREADS");
            System.exit(2);
        }
        Path manifest = Path.of(args[0]);
        int reps = Integer.parseInt(args[1]);
        int warmup = Integer.parseInt(args[2]);
        int threads = Integer.parseInt(args[3]);
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        System.err.println("ort: ONNX Runtime " + env.getVersion() + ", " + threads + " intra-op threads");
        try (BufferedReader reader = Files.newBufferedReader(manifest)) {
            String line;
            while ((line = reader.readLine()) != null) {
                if (!line.isBlank()) {
                    bench(env, line.split("\t"), reps, warmup, threads);
                }
            }
        }
    }

    private static void bench(OrtEnvironment env, String[] f, int reps, int warmup, int threads)
            throws IOException, OrtException {
        String name = f[0];
        int batch = Integer.parseInt(f[1]);
        long[] inShape = shape(f[5]);
        long[] outShape = shape(f[6]);
        FloatBuffer input = readFloats(Path.of(f[3]));
        float[] reference = readArray(Path.of(f[4]));
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(threads);
            options.setInterOpNumThreads(1);
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            try (OrtSession session = env.createSession(f[2], options);
                    OnnxTensor x = OnnxTensor.createTensor(env, input, inShape)) {
                String inputName = session.getInputNames().iterator().next();
                Map<String, OnnxTensor> inputs = Map.of(inputName, x);
                double err;
                long[] gotShape;
                try (OrtSession.Result result = session.run(inputs)) {
                    OnnxTensor y = (OnnxTensor) result.get(0);
                    gotShape = y.getInfo().getShape();
                    if (!Arrays.equals(gotShape, outShape)) {
                        fail(name + ": ONNX Runtime's output has shape " + Arrays.toString(gotShape) + ", PyTorch's "
                                + Arrays.toString(outShape));
                    }
                    err = maxRelErr(y.getFloatBuffer(), reference);
                }
                if (!(err < TOLERANCE)) {
                    fail(String.format(Locale.ROOT, "%s: ONNX Runtime's output differs from PyTorch's: max rel err %.3g",
                            name, err));
                }
                for (int i = 0; i < warmup; i++) {
                    session.run(inputs).close();
                }
                double[] times = new double[reps];
                for (int i = 0; i < reps; i++) {
                    long start = System.nanoTime();
                    session.run(inputs).close();
                    times[i] = (System.nanoTime() - start) / 1e6;
                }
                double ms = median(times);
                System.out.printf(Locale.ROOT, "{\"name\": \"%s\", \"batch\": %d, \"ms\": %.4f, \"max_rel_err\": %.3e, "
                        + "\"out_shape\": %s}%n", name, batch, ms, err, Arrays.toString(gotShape));
                System.out.flush();
                System.err.printf(Locale.ROOT, "ort: %s %.2f ms (max rel err %.2e)%n", name, ms, err);
            }
        }
    }

    private static void fail(String message) {
        System.err.println("OrtBench: " + message);
        System.exit(1);
    }

    private static long[] shape(String text) {
        return Arrays.stream(text.split(",")).mapToLong(Long::parseLong).toArray();
    }

    private static FloatBuffer readFloats(Path path) throws IOException {
        byte[] bytes = Files.readAllBytes(path);
        ByteBuffer direct = ByteBuffer.allocateDirect(bytes.length).order(ByteOrder.LITTLE_ENDIAN);
        direct.put(bytes).flip();
        return direct.asFloatBuffer();
    }

    private static float[] readArray(Path path) throws IOException {
        FloatBuffer buffer = ByteBuffer.wrap(Files.readAllBytes(path)).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        float[] values = new float[buffer.remaining()];
        buffer.get(values);
        return values;
    }

    private static double maxRelErr(FloatBuffer got, float[] reference) {
        if (got.remaining() != reference.length) {
            return Double.POSITIVE_INFINITY;
        }
        double maxDiff = 0;
        double maxRef = 0;
        for (int i = 0; i < reference.length; i++) {
            double diff = Math.abs((double) got.get(i) - reference[i]);
            if (Double.isNaN(diff)) {
                return Double.NaN;
            }
            maxDiff = Math.max(maxDiff, diff);
            maxRef = Math.max(maxRef, Math.abs(reference[i]));
        }
        return maxDiff / Math.max(maxRef, 1e-30);
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
