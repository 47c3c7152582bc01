import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Times ONNX Runtime's CPU inference through its Java API on the whole ResNet that scripts/export-resnet wrote
 * (DIR/model.onnx, batch dimension dynamic), for scripts/bench-vs-peers --model. Not part of convcl: compiled at
 * run time against the onnxruntime jar fetched from Maven, beside OrtBench.
 *
 * <pre>java -cp onnxruntime.jar:classes OrtResNet DIR ARCH BATCH REPS WARMUP INTRA_OP_THREADS</pre>
 *
 * One session (intra-op threads as given, one inter-op thread, all graph optimisations). The batch is BATCH
 * images of DIR/input.npy in turn (image i is input[i % len(input)]), as the other tools take it, made once over
 * a direct buffer; one run whose logits are checked against DIR/logits.npy (max |y - ref| / max |ref| under 1e-4:
 * exit 1 if not); then WARMUP untimed runs and REPS timed ones, each {@code session.run} plus closing its result.
 * Prints one JSON object on stdout: tool, arch, batch, median_ms, images_per_s, max_rel_err, reps; progress on
 * stderr.
 */
public final class OrtResNet {
    private static final double TOLERANCE = 1e-4;

    public static void main(String[] args) throws Exception {
        if (args.length != 6) {
            System.err.println("usage: OrtResNet DIR ARCH BATCH REPS WARMUP INTRA_OP_THREADS");
            System.exit(2);
        }
        Path dir = Path.of(args[0]);
        String arch = args[1];
        int batch = Integer.parseInt(args[2]);
        int reps = Integer.parseInt(args[3]);
        int warmup = Integer.parseInt(args[4]);
        int threads = Integer.parseInt(args[5]);
        Path model = dir.resolve("model.onnx");
        if (!Files.isRegularFile(model)) {
            fail(model + ": no such file (scripts/export-resnet writes it when PyTorch's ONNX exporter can run)");
        }
        Npy images = Npy.read(dir.resolve("input.npy"));
        Npy logits = Npy.read(dir.resolve("logits.npy"));
        int imageSize = images.values.length / (int) images.shape[0];
        int classes = logits.values.length / (int) logits.shape[0];
        float[] batchValues = new float[batch * imageSize];
        float[] reference = new float[batch * classes];
        for (int i = 0; i < batch; i++) {
            int pick = i % (int) images.shape[0];
            System.arraycopy(images.values, pick * imageSize, batchValues, i * imageSize, imageSize);
            System.arraycopy(logits.values, pick * classes, reference, i * classes, classes);
        }
        long[] inShape = images.shape.clone();
        inShape[0] = batch;
        ByteBuffer direct = ByteBuffer.allocateDirect(batchValues.length * Float.BYTES).order(ByteOrder.nativeOrder());
        direct.asFloatBuffer().put(batchValues);

        OrtEnvironment env = OrtEnvironment.getEnvironment();
        System.err.println("ort: ONNX Runtime " + env.getVersion() + ", " + threads + " intra-op threads, " + arch
                + " batch " + batch);
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(threads);
            options.setInterOpNumThreads(1);
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            try (OrtSession session = env.createSession(model.toString(), options);
                    OnnxTensor x = OnnxTensor.createTensor(env, direct.asFloatBuffer(), inShape)) {
                Map<String, OnnxTensor> inputs = Map.of(session.getInputNames().iterator().next(), x);
                double err;
                try (OrtSession.Result result = session.run(inputs)) {
                    OnnxTensor y = (OnnxTensor) result.get(0);
                    long[] gotShape = y.getInfo().getShape();
                    if (gotShape.length != 2 || gotShape[0] != batch || gotShape[1] != classes) {
                        fail("model.onnx gives logits of shape " + Arrays.toString(gotShape) + "; expected ["
                                + batch + ", " + classes + "]");
                    }
                    err = maxRelErr(y.getFloatBuffer(), reference);
                }
                if (!(err < TOLERANCE)) {
                    fail(String.format(Locale.ROOT, "ONNX Runtime's logits differ from logits.npy: max rel err %.3g",
                            err));
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
                System.out.printf(Locale.ROOT, "{\"tool\": \"onnxruntime\", \"arch\": \"%s\", \"batch\": %d, "
                        + "\"median_ms\": %.4f, \"images_per_s\": %.4f, \"max_rel_err\": %.3e, \"reps\": %d}%n", arch,
                        batch, ms, batch / ms * 1e3, err, reps);
                System.err.printf(Locale.ROOT, "ort: %s batch %d: %.2f ms, %.1f images/s (max rel err %.2e)%n", arch,
                        batch, ms, batch / ms * 1e3, err);
            }
        }
    }

    /** A little-endian float32 .npy in C order: the only kind scripts/export-resnet writes. */
    private record Npy(long[] shape, float[] values) {
        private static final Pattern DESCR = Pattern.compile("'descr':\\s*'([^']*)'");
        private static final Pattern SHAPE = Pattern.compile("'shape':\\s*\\(([^)]*)\\)");

        static Npy read(Path path) throws IOException {
            if (!Files.isRegularFile(path)) {
                fail(path + ": no such file (run scripts/export-resnet into the folder first)");
            }
            ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(path)).order(ByteOrder.LITTLE_ENDIAN);
            int major = bytes.get(6);
            int headerLength = major == 1 ? Short.toUnsignedInt(bytes.getShort(8)) : bytes.getInt(8);
            int dataStart = (major == 1 ? 10 : 12) + headerLength;
            String header = new String(bytes.array(), dataStart - headerLength, headerLength,
                    StandardCharsets.ISO_8859_1);
            Matcher descr = DESCR.matcher(header);
            Matcher shape = SHAPE.matcher(header);
            if (!descr.find() || !descr.group(1).equals("<f4") || header.contains("'fortran_order': True")
                    || !shape.find()) {
                fail(path + ": expected a little-endian float32 array in C order; header " + header.trim());
            }
            long[] dims = Arrays.stream(shape.group(1).split(",")).map(String::trim).filter(s -> !s.isEmpty())
                    .mapToLong(Long::parseLong).toArray();
            FloatBuffer data = bytes.position(dataStart).slice().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
            float[] values = new float[Math.toIntExact(Arrays.stream(dims).reduce(1, (a, b) -> a * b))];
            data.get(values);
            return new Npy(dims, values);
        }
    }

    private static void fail(String message) {
        System.err.println("OrtResNet: " + message);
        System.exit(1);
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
