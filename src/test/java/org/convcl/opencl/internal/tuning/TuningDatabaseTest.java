package org.convcl.opencl.internal.tuning;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.convcl.ConvGeometry;
import org.convcl.ConvSpec;
import org.convcl.internal.Json;
import org.convcl.opencl.internal.plan.KernelConfig;
import org.convcl.opencl.internal.plan.Tiling;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tuner's on-disk database, without a device: results survive a reload, lookups take the same geometry
 * at the nearest batch, and a file or entry that does not parse, or belongs to another device, is ignored
 * (and replaced by the next result) rather than trusted.
 */
class TuningDatabaseTest {
    private static final TuningDatabase.DeviceIdentity DEVICE = new TuningDatabase.DeviceIdentity("Test GPU 9000",
            "Test Vendor", "1.2.3", "Test Platform");
    private static final KernelConfig GEMM = new KernelConfig.Gemm(new Tiling(64, 32, 16, 4, 4, 4, 2, 4));
    private static final KernelConfig DEPTHWISE = new KernelConfig.Depthwise(4, 2, 64);

    @TempDir
    Path directory;

    @AfterEach
    void forget() {
        TuningDatabase.forgetLoaded();
    }

    private static ConvGeometry geometry(int batch, int channels) {
        return ConvSpec.defaults().resolve(new int[] {batch, 8, 8, channels}, new int[] {3, 3, channels, channels});
    }

    @Test
    void resultsSurviveAReload() {
        Path file = directory.resolve("tuning").resolve(DEVICE.fileName());
        TuningDatabase database = TuningDatabase.at(file, DEVICE);
        database.record(geometry(4, 16), GEMM, 1.5, 2.5, 12);
        database.record(geometry(4, 8), DEPTHWISE, 0.5, Double.NaN, 3);
        assertTrue(Files.isRegularFile(file), "written to " + file);

        TuningDatabase.forgetLoaded();
        TuningDatabase reloaded = TuningDatabase.at(file, DEVICE);
        assertEquals(Optional.of(GEMM), reloaded.lookup(geometry(4, 16)));
        assertEquals(Optional.of(DEPTHWISE), reloaded.lookup(geometry(4, 8)));
        assertEquals(Optional.empty(), reloaded.lookup(geometry(4, 4)), "an untuned geometry has no entry");
        TuningDatabase.Entry entry = reloaded.entries().stream().filter(e -> e.config().equals(GEMM)).findFirst()
                .orElseThrow();
        assertEquals(1.5, entry.ms());
        assertEquals(2.5, entry.defaultMs());
        assertEquals(12, entry.candidates());
        assertEquals(4, entry.batch());
    }

    @Test
    void lookupTakesTheNearestBatchAndARecordReplacesItsOwnBatch() {
        Path file = directory.resolve(DEVICE.fileName());
        TuningDatabase database = TuningDatabase.at(file, DEVICE);
        KernelConfig small = new KernelConfig.Gemm(new Tiling(16, 16, 8, 2, 2));
        database.record(geometry(1, 16), small, 0.1, 0.2, 4);
        database.record(geometry(32, 16), GEMM, 1.0, 2.0, 4);
        assertEquals(Optional.of(small), database.lookup(geometry(2, 16)));
        assertEquals(Optional.of(GEMM), database.lookup(geometry(16, 16)));
        database.record(geometry(32, 16), small, 0.9, 2.0, 4);
        assertEquals(2, database.entries().size(), "same geometry and batch: replaced, not added");
        assertEquals(Optional.of(small), database.lookup(geometry(32, 16)));
    }

    @Test
    void aCorruptFileIsIgnoredAndRebuilt() throws IOException {
        Path file = directory.resolve(DEVICE.fileName());
        Files.writeString(file, "{\"format\": 1, \"entries\": [ {\"geometry\": ");
        TuningDatabase database = TuningDatabase.at(file, DEVICE);
        assertEquals(List.of(), database.entries());
        assertEquals(Optional.empty(), database.lookup(geometry(4, 16)));
        database.record(geometry(4, 16), GEMM, 1.0, 1.0, 1);
        TuningDatabase.forgetLoaded();
        assertEquals(Optional.of(GEMM), TuningDatabase.at(file, DEVICE).lookup(geometry(4, 16)));
    }

    @Test
    void aCorruptEntryIsSkippedAndTheRestKept() throws IOException {
        Path file = directory.resolve(DEVICE.fileName());
        TuningDatabase.at(file, DEVICE).record(geometry(4, 16), GEMM, 1.0, 1.0, 1);
        String json = Files.readString(file);
        // A second entry whose tiling is invalid (tileM not a multiple of wpt_m), and one that is not an object.
        String broken = json.replace("\"entries\" : [", "\"entries\" : [ 42, {\"geometry\": \"x\", \"batch\": 1, "
                + "\"config\": {\"kernel\": \"gemm\", \"tile_m\": 30, \"tile_n\": 8, \"tile_k\": 8, \"wpt_m\": 4, "
                + "\"wpt_n\": 4, \"vwm\": 1, \"vwn\": 1, \"vec_k\": 1}},");
        assertTrue(!broken.equals(json), "the test edits the file: " + json);
        Files.writeString(file, broken);
        TuningDatabase.forgetLoaded();
        TuningDatabase reloaded = TuningDatabase.at(file, DEVICE);
        assertEquals(1, reloaded.entries().size());
        assertEquals(Optional.of(GEMM), reloaded.lookup(geometry(4, 16)));
    }

    @Test
    void anotherDevicesOrDriversFileIsNotTrusted() throws IOException {
        Path file = directory.resolve("shared.json");
        TuningDatabase.at(file, DEVICE).record(geometry(4, 16), GEMM, 1.0, 1.0, 1);
        TuningDatabase.forgetLoaded();
        TuningDatabase.DeviceIdentity newerDriver = new TuningDatabase.DeviceIdentity(DEVICE.name(), DEVICE.vendor(),
                "1.2.4", DEVICE.platform());
        assertEquals(Optional.empty(), TuningDatabase.at(file, newerDriver).lookup(geometry(4, 16)));
        assertTrue(!DEVICE.fileName().equals(newerDriver.fileName()), "each driver has its own file");
        assertTrue(DEVICE.fileName().startsWith("test-gpu-9000-"), DEVICE.fileName());
    }

    @Test
    void configsRoundTripThroughJson() {
        for (KernelConfig config : List.of(GEMM, DEPTHWISE, new KernelConfig.General(32))) {
            assertEquals(config, KernelConfigJson.fromJson(KernelConfigJson.toJson(config)));
        }
    }

    @Test
    void shippedConfigsAreWrittenBackAsTheyWereRead() throws IOException {
        // The JSON form is the database's file format: reading a shipped entry and writing it again changes nothing.
        String text;
        try (var in = TuningDatabaseTest.class.getResourceAsStream("/tuning/test-gpu-9000.json")) {
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        List<?> entries = (List<?>) Json.parseObject(text).get("entries");
        assertTrue(!entries.isEmpty(), "the shipped file has entries");
        for (Object entry : entries) {
            Object config = ((Map<?, ?>) entry).get("config");
            assertEquals(Json.write(config), Json.write(KernelConfigJson.toJson(KernelConfigJson.fromJson(config))));
        }
    }

    @Test
    void resultsShippedInTheJarServeADeviceOfTheSameNameWhateverItsDriver() {
        // src/test/resources/tuning/test-gpu-9000.json, as `convcl tune` writes it and a commit ships it.
        ConvGeometry g = geometry(4, 16);
        KernelConfig shipped = new KernelConfig.Gemm(new Tiling(32, 16, 16, 4, 2, 2, 2, 4, 2));
        assertEquals(Optional.of(shipped), PackagedTuning.lookup("Test GPU 9000", g));
        assertEquals(Optional.of(shipped), PackagedTuning.lookup("Test GPU 9000", geometry(64, 16)), "nearest batch");
        assertEquals(Optional.empty(), PackagedTuning.lookup("Test GPU 9000", geometry(4, 8)), "another geometry");
        assertEquals(Optional.empty(), PackagedTuning.lookup("Test GPU 9001", g), "no file for that name");
        // impostor.json names another device than its file name says: not trusted.
        assertEquals(Optional.empty(), PackagedTuning.lookup("Impostor", g));
    }
}
