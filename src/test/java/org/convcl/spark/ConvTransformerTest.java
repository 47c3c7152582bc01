package org.convcl.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import org.apache.spark.SparkException;
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
import org.convcl.DType;
import org.convcl.HalfFloats;
import org.convcl.Layout;
import org.convcl.Padding;
import org.convcl.Tensor;
import org.convcl.backend.BackendChoice;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.opencl.device.OpenClDevice;
import org.convcl.testing.OpenClTesting;
import org.convcl.testing.RandomTensors;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * ConvTransformer on a local[2] Spark: every output row equals convcl's Java path applied to that row's sample
 * outside Spark, nulls pass through, the other columns are kept, and bad rows and settings are refused by name.
 */
@Tag("spark")
class ConvTransformerTest {
    /** Both sides run the Java path on the same sample; only the batch a sample travels in differs. */
    private static final double JAVA_PATH_TOLERANCE = 1e-6;
    /** OpenCL sums in another order than the Java path: float32 rounding, relative to the row's scale. */
    private static final double OPENCL_TOLERANCE = 1e-5;

    private final SparkSession spark = SparkTesting.session();

    @Test
    void sameConvolutionEveryRowAsTheJavaPathWithNullsPassedThrough() {
        SplittableRandom random = new SplittableRandom(15);
        int[] sampleShape = {8, 8, 3};
        Tensor kernel = RandomTensors.uniform(random, 3, 3, 3, 16);
        Tensor bias = RandomTensors.uniform(random, 16);
        // 101 rows in 3 partitions with batches of 16: full and partial batches, and nulls inside batches.
        Dataset<Row> data = SparkTesting.samples(spark, random, 101, sampleShape, 3, 0, 17, 50, 100);
        ConvTransformer transformer = new ConvTransformer().setInputCol("input").setOutputCol("features")
                .setSampleShape(sampleShape).setKernel(kernel).setBias(bias).setBatchSize(16)
                .setBackend(BackendChoice.CPU);

        Conv reference = Conv.builder(kernel).bias(bias).backend(CpuBackend.instance()).build();
        List<Row> rows = transformer.transform(data).orderBy("id").collectAsList();

        assertEquals(101, rows.size());
        assertEquals(List.of("id", "label", "input", "features"), List.of(rows.get(0).schema().fieldNames()));
        for (Row row : rows) {
            long id = row.getLong(0);
            assertEquals("row " + id, row.getString(1), "other columns are kept");
            float[] sample = SparkTesting.floats(row, "input");
            float[] output = SparkTesting.floats(row, "features");
            if (sample == null) {
                assertNull(output, "row " + id + ": a null sample gives a null output");
                continue;
            }
            float[] expected = SparkTesting.javaPath(reference, sampleShape, sample);
            assertNotNull(output, "row " + id);
            assertEquals(8 * 8 * 16, output.length, "row " + id);
            assertRowClose(expected, output, JAVA_PATH_TOLERANCE, "row " + id);
        }
        assertArrayEquals(new int[] {8, 8, 16}, transformer.outputSampleShape());
    }

    @Test
    void everyKnobAtOnceChannelsFirst() {
        SplittableRandom random = new SplittableRandom(16);
        // Channels-first (Cin, H, W) samples; kernel (Cout, Cin/groups, kh, kw); strides, dilation, groups and an
        // explicit asymmetric padding together.
        int[] sampleShape = {4, 11, 9};
        Tensor kernel = RandomTensors.uniform(random, 6, 2, 3, 2);
        Tensor bias = RandomTensors.uniform(random, 6);
        ConvSpec spec = ConvSpec.builder().strides(2, 1).kernelDilation(2, 3).groups(2)
                .padding(Padding.parse("1:2,0:-1")).build();
        Dataset<Row> data = SparkTesting.samples(spark, random, 40, sampleShape, 2, 5);
        ConvTransformer transformer = new ConvTransformer().setSampleShape(sampleShape).setKernel(kernel)
                .setBias(bias).setLayout(Layout.CHANNELS_FIRST).setStrides(2, 1).setKernelDilation(2, 3)
                .setGroups(2).setPadding("1:2,0:-1").setBatchSize(7).setBackend("cpu");

        Conv reference = Conv.builder(kernel).bias(bias).spec(spec).layout(Layout.CHANNELS_FIRST)
                .backend(CpuBackend.instance()).build();
        int[] outputShape = reference.outputShape(1, 4, 11, 9);
        assertArrayEquals(new int[] {6, outputShape[2], outputShape[3]}, transformer.outputSampleShape());
        assertRowsMatch(transformer.transform(data), reference, sampleShape, JAVA_PATH_TOLERANCE);
    }

    @Test
    void openClBackendMatchesTheJavaPath() {
        Optional<OpenClDevice> device = OpenClTesting.deviceIfAny();
        if (device.isEmpty()) {
            return; // no OpenCL here, and not CI (where this fails instead); the Java path is tested above
        }
        SplittableRandom random = new SplittableRandom(17);
        int[] sampleShape = {10, 10, 4};
        Tensor kernel = RandomTensors.uniform(random, 3, 3, 2, 8);
        ConvSpec spec = ConvSpec.builder().strides(2).groups(2).build();
        Dataset<Row> data = SparkTesting.samples(spark, random, 30, sampleShape, 2, 3);
        ConvTransformer transformer = new ConvTransformer().setSampleShape(sampleShape).setKernel(kernel)
                .setStrides(2).setGroups(2).setBatchSize(8).setBackend(BackendChoice.OPENCL);

        Conv reference = Conv.builder(kernel).spec(spec).backend(CpuBackend.instance()).build();
        assertRowsMatch(transformer.transform(data), reference, sampleShape, OPENCL_TOLERANCE);
    }

    /**
     * A float16 layer (issue 26): the rows stay array<float>, and each output value is a float16 value (the layer's
     * rounded output, widened), within one float16 rounding of the same layer run outside Spark on the sample.
     */
    @Test
    void aFloat16LayerGivesFloat16ValuesInFloatRows() {
        SplittableRandom random = new SplittableRandom(20);
        int[] sampleShape = {6, 6, 2};
        Tensor kernel = RandomTensors.uniform(random, 3, 3, 2, 4);
        Dataset<Row> data = SparkTesting.samples(spark, random, 12, sampleShape, 2, 4);
        ConvTransformer transformer = new ConvTransformer().setSampleShape(sampleShape).setKernel(kernel)
                .setDType("float16").setBatchSize(5).setBackend(BackendChoice.CPU);
        assertEquals(DType.FLOAT16, transformer.getDType());

        Conv reference = Conv.builder(kernel).dtype(DType.FLOAT16).backend(CpuBackend.instance()).build();
        for (Row row : transformer.transform(data).orderBy("id").collectAsList()) {
            float[] output = SparkTesting.floats(row, "output");
            if (output == null) {
                continue;
            }
            for (float value : output) {
                assertEquals(value, HalfFloats.halfToFloat(HalfFloats.floatToHalf(value)),
                        "row " + row.getLong(0) + ": " + value + " is no float16 value");
            }
            float[] expected = SparkTesting.javaPath(reference, sampleShape, SparkTesting.floats(row, "input"));
            // The batch a sample travels in may change a float32 sum's order, so one float16 rounding apart.
            assertRowClose(expected, output, 0x1p-10, "row " + row.getLong(0));
        }
    }

    @Test
    void samplesMadeByAMapFunctionJustBeforeAreRead() {
        // Spark's optimiser hands the map's own rows, float[] and all, straight to the next object operator.
        int[] sampleShape = {6, 6, 2};
        Tensor kernel = RandomTensors.uniform(new SplittableRandom(20), 3, 3, 2, 5);
        Dataset<Row> data = spark.range(0, 24, 1, 2).map(
                (MapFunction<Long, Row>) id -> RowFactory.create(id, "row " + id, id == 7 ? null : generated(id, 72)),
                Encoders.row(SparkTesting.sampleSchema("input")));
        ConvTransformer transformer = new ConvTransformer().setSampleShape(sampleShape).setKernel(kernel)
                .setBatchSize(5).setBackend("cpu");

        Conv reference = Conv.builder(kernel).backend(CpuBackend.instance()).build();
        assertRowsMatch(transformer.transform(data), reference, sampleShape, JAVA_PATH_TOLERANCE);
    }

    @Test
    void aRowOfTheWrongLengthFailsItsTaskNamingItsPositionAndTheShape() {
        StructType schema = SparkTesting.sampleSchema("input");
        List<Row> rows = new ArrayList<>();
        for (long id = 0; id < 5; id++) {
            rows.add(RowFactory.create(id, "row " + id, new float[id == 3 ? 47 : 48]));
        }
        Dataset<Row> data = spark.createDataFrame(rows, schema).coalesce(1);
        ConvTransformer transformer = new ConvTransformer().setSampleShape(4, 4, 3)
                .setKernel(Tensor.zeros(3, 3, 3, 2)).setBackend("cpu");

        SparkException failure = assertThrows(SparkException.class,
                () -> transformer.transform(data).collectAsList());
        String message = causeMessages(failure);
        assertTrue(message.contains("inputCol 'input': row 3 of partition 0 has 47 values; expected 48, a flattened "
                + "sample of sampleShape [4, 4, 3] (channels-last)"), message);
    }

    @Test
    void aSampleHoldingANullFailsItsTaskNamingTheRowAndIndex() {
        StructType schema = new StructType().add("id", DataTypes.LongType, false)
                .add("input", DataTypes.createArrayType(DataTypes.FloatType, true), true);
        Float[] withNull = {1f, 2f, null, 4f};
        Dataset<Row> data = spark.createDataFrame(List.of(RowFactory.create(0L, withNull)), schema).coalesce(1);
        ConvTransformer transformer = new ConvTransformer().setSampleShape(2, 2, 1)
                .setKernel(Tensor.zeros(1, 1, 1, 1)).setBackend("cpu");

        SparkException failure = assertThrows(SparkException.class,
                () -> transformer.transform(data).collectAsList());
        String message = causeMessages(failure);
        assertTrue(message.contains("inputCol 'input': row 0 of partition 0 holds a null at index 2"), message);
    }

    @Test
    void badColumnsAndSettingsAreRefusedBeforeAnyTaskRuns() {
        Dataset<Row> data = SparkTesting.samples(spark, new SplittableRandom(18), 4, new int[] {4, 4, 3}, 1);
        ConvTransformer good = new ConvTransformer().setSampleShape(4, 4, 3).setKernel(Tensor.zeros(3, 3, 3, 2));

        Dataset<Row> doubles = data.withColumn("input", data.col("input").cast("array<double>"));
        assertMessage("inputCol: column 'input' has type array<double>; expected array<float>",
                () -> good.transform(doubles));
        assertMessage("inputCol: column 'pixels' does not exist; the columns are [id, label, input]",
                () -> good.copy(new org.apache.spark.ml.param.ParamMap()).setInputCol("pixels").transform(data));
        assertMessage("outputCol: column 'label' already exists",
                () -> good.copy(new org.apache.spark.ml.param.ParamMap()).setOutputCol("label").transform(data));
        assertMessage("sampleShape [4, 4, 5] does not fit kernelShape [3, 3, 3, 2]",
                () -> new ConvTransformer().setSampleShape(4, 4, 5).setKernel(Tensor.zeros(3, 3, 3, 2))
                        .transform(data));
        assertMessage("groups: ", () -> new ConvTransformer().setSampleShape(4, 4, 3)
                .setKernel(Tensor.zeros(3, 3, 3, 2)).setGroups(2).transform(data));
        assertMessage("kernel: not set; it has no default", () -> new ConvTransformer().setSampleShape(4, 4, 3)
                .transform(data));
        assertMessage("sampleShape: not set; it has no default", () -> new ConvTransformer()
                .setKernel(Tensor.zeros(3, 3, 3, 2)).transform(data));
    }

    @Test
    void settersRefuseBadValuesNamingTheParamTheValueAndTheRule() {
        ConvTransformer transformer = new ConvTransformer();
        assertMessage("batchSize: got 0; expected an int >= 1", () -> transformer.setBatchSize(0));
        assertMessage("strides: got [2, 0]; expected one int >= 1", () -> transformer.setStrides(2, 0));
        assertMessage("groups: got -1; expected an int >= 1", () -> transformer.setGroups(-1));
        assertMessage("sampleShape: got [32, 0, 3]; expected", () -> transformer.setSampleShape(32, 0, 3));
        assertMessage("kernelShape: got [3, 16] of rank 2", () -> transformer.setKernel(new float[48], 3, 16));
        assertMessage("backend: got 'gpu'; expected auto, cpu or opencl", () -> transformer.setBackend("gpu"));
        assertMessage("padding: ", () -> transformer.setPadding("sideways"));
        assertMessage("inputCol: got ''; expected a column name", () -> transformer.setInputCol(""));
        assertMessage("dtype: got 'float8'; expected one of float32, float16, bfloat16",
                () -> transformer.setDType("float8"));
    }

    @Test
    void executorsKeepOneLayerPerSettingsAcrossTransforms() {
        SplittableRandom random = new SplittableRandom(19);
        Dataset<Row> data = SparkTesting.samples(spark, random, 20, new int[] {5, 5, 2}, 2);
        Tensor kernel = RandomTensors.uniform(random, 3, 3, 2, 4);
        ConvTransformer first = new ConvTransformer().setSampleShape(5, 5, 2).setKernel(kernel).setBackend("cpu");
        ConvTransformer twin = new ConvTransformer().setSampleShape(5, 5, 2).setKernel(kernel).setBackend("cpu")
                .setBatchSize(3);

        first.transform(data).count();
        int layers = ExecutorConvs.size();
        first.transform(data).collectAsList();
        twin.transform(data).collectAsList();
        assertEquals(layers, ExecutorConvs.size(), "equal settings reuse the executor's layer");
        assertEquals(first.recipe().key(), twin.recipe().key());
    }

    private static void assertRowsMatch(Dataset<Row> result, Conv reference, int[] sampleShape, double tolerance) {
        List<Row> rows = result.orderBy("id").collectAsList();
        for (Row row : rows) {
            float[] sample = SparkTesting.floats(row, "input");
            float[] output = SparkTesting.floats(row, "output");
            if (sample == null) {
                assertNull(output);
                continue;
            }
            float[] expected = SparkTesting.javaPath(reference, sampleShape, sample);
            assertRowClose(expected, output, tolerance, "row " + row.getLong(0));
        }
    }

    private static float[] generated(long id, int length) {
        SplittableRandom random = new SplittableRandom(id);
        float[] values = new float[length];
        for (int i = 0; i < length; i++) {
            values[i] = (float) random.nextDouble(-1, 1);
        }
        return values;
    }

    private static void assertRowClose(float[] expected, float[] actual, double tolerance, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        double error = SparkTesting.maxRelativeError(expected, actual);
        assertTrue(error <= tolerance, what + ": max_rel_err " + error + " > " + tolerance);
    }

    private static void assertMessage(String expectedPart, org.junit.jupiter.api.function.Executable call) {
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class, call);
        assertTrue(refused.getMessage().contains(expectedPart), refused.getMessage());
    }

    /** Spark wraps a task's exception in its own; the messages of the whole chain. */
    private static String causeMessages(Throwable failure) {
        StringBuilder messages = new StringBuilder();
        for (Throwable t = failure; t != null; t = t.getCause()) {
            messages.append(t).append('\n');
        }
        return messages.toString();
    }
}
