package org.convcl.spark.demo;

import java.util.Arrays;
import java.util.BitSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.apache.spark.api.java.function.MapFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.convcl.nn.Conv;
import org.convcl.ConvSpec;
import org.convcl.Padding;
import org.convcl.Tensor;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.spark.ConvTransformer;

/**
 * {@code scripts/spark-demo}: {@link ConvTransformer} on a local Spark over generated samples, every output row
 * checked against convcl's Java path computed on the driver, outside Spark. Two cases: a 3x3 SAME convolution of
 * 32x32x3 samples to 16 channels, and one with strides, kernel dilation, groups and explicit padding together.
 * Prints rows, rows/s and max_rel_err per case; exits 1 when any row is off or missing, 2 for a bad argument.
 *
 * <p>{@code max_rel_err} is, per row, {@code max |spark - java| / max |java|} (the row's own scale), maximised over
 * the rows; a row is off above 1e-5, float32 rounding with room to spare.
 */
public final class SparkDemo {
    static final double TOLERANCE = 1e-5;
    private static final String USAGE = "usage: scripts/spark-demo [--rows N] [--partitions N] [--batch-size N] "
            + "[--backend auto|cpu|opencl] [--master local[2]]";

    private SparkDemo() {
    }

    /** One convolution the demo runs: the layer's settings, and the samples' shape. */
    private record DemoCase(String name, int[] sampleShape, Tensor kernel, Tensor bias, ConvSpec spec) {
        String knobs() {
            return "strides " + Arrays.toString(spec.strides()) + " padding " + spec.padding() + " kernelDilation "
                    + Arrays.toString(spec.kernelDilation()) + " groups " + spec.groups();
        }
    }

    private record Options(int rows, int partitions, int batchSize, String backend, String master) {
        static Options parse(String[] args) {
            int rows = 4000;
            int partitions = 8;
            int batchSize = 64;
            String backend = "auto";
            String master = "local[2]";
            for (int i = 0; i < args.length; i++) {
                String flag = args[i];
                if (flag.equals("--help") || flag.equals("-h")) {
                    System.out.println(USAGE);
                    System.exit(0);
                }
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException(flag + " needs a value; " + USAGE);
                }
                String value = args[++i];
                switch (flag) {
                    case "--rows" -> rows = positive(flag, value);
                    case "--partitions" -> partitions = positive(flag, value);
                    case "--batch-size" -> batchSize = positive(flag, value);
                    case "--backend" -> backend = value;
                    case "--master" -> master = value;
                    default -> throw new IllegalArgumentException("unknown option " + flag + "; " + USAGE);
                }
            }
            return new Options(rows, partitions, batchSize, backend, master);
        }

        private static int positive(String flag, String value) {
            try {
                int parsed = Integer.parseInt(value);
                if (parsed >= 1) {
                    return parsed;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            throw new IllegalArgumentException(flag + ": got '" + value + "'; expected an int >= 1");
        }
    }

    public static void main(String[] args) {
        Options options;
        try {
            options = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("spark-demo: " + e.getMessage());
            System.exit(2);
            return;
        }
        quietSpark();
        SparkSession spark = SparkSession.builder().master(options.master()).appName("convcl-spark-demo")
                .config("spark.ui.enabled", "false").getOrCreate();
        boolean allGood = true;
        try {
            System.out.printf(Locale.ROOT, "convcl spark-demo: Spark %s, master %s, backend %s, batch size %d, "
                    + "%d partitions%n", spark.version(), options.master(), options.backend(), options.batchSize(),
                    options.partitions());
            System.out.printf(Locale.ROOT, "%-8s %6s %10s %10s %9s %10s %12s %4s %8s  %s%n", "case", "rows", "sample",
                    "output", "seconds", "rows/s", "max_rel_err", "off", "missing", "knobs");
            for (DemoCase demoCase : cases()) {
                allGood &= run(spark, demoCase, options);
            }
        } finally {
            spark.stop();
        }
        System.out.println(allGood ? "spark-demo: every row matches convcl's Java path (max_rel_err <= " + TOLERANCE
                + ")" : "spark-demo: FAILED: some rows are off or missing");
        System.exit(allGood ? 0 : 1);
    }

    private static List<DemoCase> cases() {
        SplittableRandom random = new SplittableRandom(2024);
        DemoCase same = new DemoCase("same3x3", new int[] {32, 32, 3}, uniform(random, 3, 3, 3, 16),
                uniform(random, 16), ConvSpec.builder().padding(Padding.SAME).build());
        DemoCase knobs = new DemoCase("knobs", new int[] {32, 32, 3}, uniform(random, 3, 3, 1, 12),
                uniform(random, 12), ConvSpec.builder().strides(2, 1).kernelDilation(2, 3).groups(3)
                        .padding(Padding.parse("1:2,3:0")).build());
        return List.of(same, knobs);
    }

    /** Runs one case through Spark, then checks every row on the driver; true when all are there and close. */
    private static boolean run(SparkSession spark, DemoCase demoCase, Options options) {
        int length = (int) Tensor.elementCount(demoCase.sampleShape());
        long seed = demoCase.name().hashCode();
        ConvSpec spec = demoCase.spec();
        ConvTransformer transformer = new ConvTransformer().setInputCol("sample").setOutputCol("output")
                .setSampleShape(demoCase.sampleShape()).setKernel(demoCase.kernel()).setBias(demoCase.bias())
                .setStrides(spec.strides()).setPadding(spec.padding()).setKernelDilation(spec.kernelDilation())
                .setInputDilation(spec.inputDilation()).setGroups(spec.groups()).setBatchSize(options.batchSize())
                .setBackend(options.backend());
        StructType schema = new StructType().add("id", DataTypes.LongType, false)
                .add("sample", DataTypes.createArrayType(DataTypes.FloatType, false), false);
        Dataset<Row> samples = spark.range(0, options.rows(), 1, options.partitions())
                .map(new GeneratedSample(seed, length), Encoders.row(schema));
        Dataset<Row> convolved = transformer.transform(samples);

        // The whole job, generating, convolving and discarding the rows (Spark's "noop" sink), twice: the first run
        // compiles Spark's generated code for the plan, the JVM's hot code and the executor's layer; the second,
        // timed, is the steady state a long job runs in.
        convolved.write().format("noop").mode("overwrite").save();
        long start = System.nanoTime();
        convolved.write().format("noop").mode("overwrite").save();
        double seconds = (System.nanoTime() - start) / 1e9;

        // Checked: every row again, streamed to the driver a partition at a time, against the Java path there.
        Conv reference = Conv.builder(demoCase.kernel()).bias(demoCase.bias()).spec(spec)
                .backend(CpuBackend.instance()).build();
        int[] batchOfOne = new int[demoCase.sampleShape().length + 1];
        batchOfOne[0] = 1;
        System.arraycopy(demoCase.sampleShape(), 0, batchOfOne, 1, demoCase.sampleShape().length);
        BitSet seen = new BitSet(options.rows());
        double worst = 0;
        int off = 0;
        Iterator<Row> rows = convolved.select("id", "output").toLocalIterator();
        while (rows.hasNext()) {
            Row row = rows.next();
            long id = row.getLong(0);
            float[] expected = reference.apply(Tensor.of(GeneratedSample.values(seed, id, length), batchOfOne)).data();
            float[] actual = row.isNullAt(1) ? null : floats(row.getList(1));
            double error = actual == null || actual.length != expected.length ? Double.POSITIVE_INFINITY
                    : maxRelativeError(expected, actual);
            if (!(error <= TOLERANCE) || id < 0 || id >= options.rows() || seen.get((int) id)) {
                off++;
            }
            worst = Math.max(worst, error);
            if (id >= 0 && id < options.rows()) {
                seen.set((int) id);
            }
        }
        int missing = options.rows() - seen.cardinality();
        int[] outputShape = transformer.outputSampleShape();
        System.out.printf(Locale.ROOT, "%-8s %6d %10s %10s %9.2f %10.0f %12.2e %4d %8d  %s%n", demoCase.name(),
                options.rows(), shape(demoCase.sampleShape()), shape(outputShape), seconds, options.rows() / seconds,
                worst, off, missing, demoCase.knobs());
        return off == 0 && missing == 0;
    }

    /** Sample {@code id} of a case, the same on the executors that make it and on the driver that checks it. */
    private static final class GeneratedSample implements MapFunction<Long, Row> {
        private static final long serialVersionUID = 1L;
        private final long seed;
        private final int length;

        GeneratedSample(long seed, int length) {
            this.seed = seed;
            this.length = length;
        }

        @Override
        public Row call(Long id) {
            return RowFactory.create(id, values(seed, id, length));
        }

        static float[] values(long seed, long id, int length) {
            SplittableRandom random = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + id);
            float[] values = new float[length];
            for (int i = 0; i < length; i++) {
                values[i] = (float) random.nextDouble(-1, 1);
            }
            return values;
        }
    }

    private static Tensor uniform(SplittableRandom random, int... shape) {
        float[] values = new float[(int) Tensor.elementCount(shape)];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextDouble(-1, 1);
        }
        return Tensor.of(values, shape);
    }

    private static float[] floats(List<Object> values) {
        float[] result = new float[values.size()];
        int i = 0;
        for (Object value : values) {
            result[i++] = (Float) value;
        }
        return result;
    }

    private static double maxRelativeError(float[] expected, float[] actual) {
        double scale = 0;
        double error = 0;
        for (int i = 0; i < expected.length; i++) {
            scale = Math.max(scale, Math.abs(expected[i]));
            error = Math.max(error, Math.abs((double) actual[i] - expected[i]));
        }
        return error == 0 ? 0 : error / scale;
    }

    private static String shape(int[] dims) {
        return String.join("x", Arrays.stream(dims).mapToObj(Integer::toString).toList());
    }

    /**
     * Spark's INFO lines would bury the table; WARN and above still show, and so does convcl's INFO line naming the
     * backend. Only where the user has not configured these loggers (slf4j-simple reads them as loggers are made).
     */
    private static void quietSpark() {
        for (String logger : List.of("org.apache.spark", "org.sparkproject", "org.apache.hadoop", "io.netty")) {
            System.getProperties().putIfAbsent("org.slf4j.simpleLogger.log." + logger, "warn");
        }
    }
}
