package org.convcl.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.convcl.Layout;
import org.convcl.Tensor;
import org.convcl.backend.BackendChoice;
import org.convcl.testing.RandomTensors;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A saved ConvTransformer, alone or in a pipeline, loads back with every setting and computes the same rows. */
@Tag("spark")
class ConvTransformerPersistenceTest {
    private final SparkSession spark = SparkTesting.session();

    @TempDir
    Path dir;

    @Test
    void saveAndLoadKeepEverySettingAndTheResults() throws Exception {
        SplittableRandom random = new SplittableRandom(21);
        Tensor kernel = RandomTensors.uniform(random, 2, 3, 2, 6);
        float[] bias = RandomTensors.uniform(random, 6).data();
        ConvTransformer original = new ConvTransformer().setInputCol("input").setOutputCol("convolved")
                .setSampleShape(9, 7, 4).setKernel(kernel).setBias(Tensor.of(bias, 6)).setStrides(2, 1)
                .setPadding("1:0,2:2").setKernelDilation(1, 2).setInputDilation(1).setGroups(2).setBatchSize(5)
                .setBackend(BackendChoice.CPU);
        String path = dir.resolve("conv").toString();
        original.write().save(path);

        ConvTransformer loaded = ConvTransformer.load(path);

        assertEquals(original.uid(), loaded.uid());
        assertEquals("input", loaded.getInputCol());
        assertEquals("convolved", loaded.getOutputCol());
        assertArrayEquals(new int[] {9, 7, 4}, loaded.getSampleShape());
        assertArrayEquals(new int[] {2, 3, 2, 6}, loaded.getKernelShape());
        assertArrayEquals(kernel.data(), loaded.getKernel());
        assertArrayEquals(bias, loaded.getBias());
        assertArrayEquals(new int[] {2, 1}, loaded.getStrides());
        assertEquals("1:0,2:2", loaded.getPadding());
        assertArrayEquals(new int[] {1, 2}, loaded.getKernelDilation());
        assertArrayEquals(new int[] {1}, loaded.getInputDilation());
        assertEquals(2, loaded.getGroups());
        assertEquals(Layout.CHANNELS_LAST, loaded.getLayout());
        assertEquals(5, loaded.getBatchSize());
        assertEquals(BackendChoice.CPU, loaded.getBackend());
        assertEquals(original.recipe().key(), loaded.recipe().key());

        Dataset<Row> data = SparkTesting.samples(spark, random, 12, new int[] {9, 7, 4}, 2, 4);
        assertSameRows(original.transform(data), loaded.transform(data), "convolved");
    }

    @Test
    void unsetBiasAndDefaultsStayUnsetAndDefault() throws Exception {
        ConvTransformer original = new ConvTransformer().setSampleShape(4, 2).setKernel(Tensor.zeros(3, 2, 1))
                .setLayout(Layout.CHANNELS_FIRST);
        String path = dir.resolve("defaults").toString();
        original.write().save(path);

        ConvTransformer loaded = ConvTransformer.load(path);

        assertNull(loaded.getBias());
        assertEquals("SAME", loaded.getPadding());
        assertEquals(64, loaded.getBatchSize());
        assertEquals(BackendChoice.AUTO, loaded.getBackend());
        assertEquals(Layout.CHANNELS_FIRST, loaded.getLayout());
    }

    @Test
    void aPipelineHoldingItSavesAndLoads() throws Exception {
        SplittableRandom random = new SplittableRandom(22);
        ConvTransformer conv = new ConvTransformer().setSampleShape(6, 6, 2)
                .setKernel(RandomTensors.uniform(random, 3, 3, 2, 3)).setBackend("cpu");
        Dataset<Row> data = SparkTesting.samples(spark, random, 10, new int[] {6, 6, 2}, 2);
        PipelineModel model = new Pipeline().setStages(new PipelineStage[] {conv}).fit(data);
        String path = dir.resolve("pipeline").toString();
        model.write().save(path);

        PipelineModel loaded = PipelineModel.load(path);

        assertEquals(ConvTransformer.class, loaded.stages()[0].getClass());
        assertSameRows(model.transform(data), loaded.transform(data), "output");
    }

    private static void assertSameRows(Dataset<Row> expected, Dataset<Row> actual, String column) {
        List<Row> want = expected.orderBy("id").collectAsList();
        List<Row> got = actual.orderBy("id").collectAsList();
        assertEquals(want.size(), got.size());
        for (int i = 0; i < want.size(); i++) {
            assertArrayEquals(SparkTesting.floats(want.get(i), column), SparkTesting.floats(got.get(i), column),
                    "row " + want.get(i).getLong(0));
        }
    }
}
