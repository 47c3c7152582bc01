package org.convcl.spark;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.convcl.nn.Conv;
import org.convcl.Tensor;

/**
 * The Spark tests' shared local[2] session (made once per test JVM: starting Spark costs seconds, so every Spark
 * test class uses this one; Spark stops it at JVM exit) and their data.
 */
final class SparkTesting {
    private static SparkSession session;

    private SparkTesting() {
    }

    static synchronized SparkSession session() {
        if (session == null) {
            session = SparkSession.builder()
                    .master("local[2]")
                    .appName("convcl-tests")
                    .config("spark.ui.enabled", "false")
                    // Loopback only: the tests need no network, and a sandbox's host name may not resolve.
                    .config("spark.driver.host", "127.0.0.1")
                    .config("spark.driver.bindAddress", "127.0.0.1")
                    .config("spark.sql.shuffle.partitions", "2")
                    .getOrCreate();
        }
        return session;
    }

    /** The schema of {@link #samples}: a row id, a label, and the samples. */
    static StructType sampleSchema(String sampleColumn) {
        return new StructType()
                .add("id", DataTypes.LongType, false)
                .add("label", DataTypes.StringType, true)
                .add(sampleColumn, DataTypes.createArrayType(DataTypes.FloatType, false), true);
    }

    /**
     * {@code count} rows of random samples of {@code sampleShape} in {@code partitions} partitions; the rows whose
     * id is in {@code nullIds} have a null sample.
     */
    static Dataset<Row> samples(SparkSession spark, SplittableRandom random, int count, int[] sampleShape,
            int partitions, long... nullIds) {
        int length = (int) Tensor.elementCount(sampleShape);
        List<Row> rows = new ArrayList<>();
        for (long id = 0; id < count; id++) {
            long key = id;
            boolean isNull = Arrays.stream(nullIds).anyMatch(n -> n == key);
            float[] sample = new float[length];
            for (int i = 0; i < length; i++) {
                sample[i] = (float) random.nextDouble(-1, 1);
            }
            rows.add(RowFactory.create(id, "row " + id, isNull ? null : sample));
        }
        return spark.createDataFrame(rows, sampleSchema("input")).repartition(partitions);
    }

    /** The sample of a row as floats (Spark hands arrays back boxed). */
    static float[] floats(Row row, String column) {
        if (row.isNullAt(row.fieldIndex(column))) {
            return null;
        }
        List<Object> values = row.getList(row.fieldIndex(column));
        float[] result = new float[values.size()];
        for (int i = 0; i < result.length; i++) {
            result[i] = (Float) values.get(i);
        }
        return result;
    }

    /**
     * The reference for one row: {@code layer} (built by the test from its own kernel and spec, on the Java path)
     * applied to the sample outside Spark, as a batch of one.
     */
    static float[] javaPath(Conv layer, int[] sampleShape, float[] sample) {
        int[] batched = new int[sampleShape.length + 1];
        batched[0] = 1;
        System.arraycopy(sampleShape, 0, batched, 1, sampleShape.length);
        return layer.apply(Tensor.of(sample.clone(), batched)).data();
    }

    /** {@code max |actual - expected| / max |expected|} (the row's own scale), 0 for equal rows. */
    static double maxRelativeError(float[] expected, float[] actual) {
        double scale = 0;
        double error = 0;
        for (int i = 0; i < expected.length; i++) {
            scale = Math.max(scale, Math.abs(expected[i]));
            error = Math.max(error, Math.abs((double) actual[i] - expected[i]));
        }
        return error == 0 ? 0 : error / scale;
    }
}
