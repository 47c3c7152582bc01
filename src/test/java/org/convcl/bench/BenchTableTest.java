package org.convcl.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Map;
import org.convcl.Precision;
import org.junit.jupiter.api.Test;

/**
 * A heap count the runtime could not take ({@link HeapCounter#UNKNOWN}, as on a runtime without
 * {@code jdk.management}) is shown as unknown, never as zero: {@code -} in the table, null in the JSON.
 */
class BenchTableTest {
    @Test
    void anUncountedHeapIsShownAsUnknown() throws IOException {
        BenchResult uncounted = new BenchResult("shape", 2, 1.5, 3.0, Double.NaN, Double.NaN, Double.NaN, 3.1, 3.5,
                3.05, 3.08, null, 1e-7, HeapCounter.UNKNOWN, 1000, 400);
        BenchResult counted = new BenchResult("other", 2, 1.5, 3.0, Double.NaN, Double.NaN, Double.NaN, Double.NaN,
                Double.NaN, Double.NaN, Double.NaN, "epilogue_ms not measured: not yet", 1e-7, 4096, 1000, 0);
        StringWriter text = new StringWriter();
        try (PrintWriter out = new PrintWriter(text)) {
            BenchTable.printRow(out, uncounted);
            BenchTable.printRow(out, counted);
        }
        List<String> rows = text.toString().lines().toList();
        assertTrue(rows.get(0).endsWith(" -"), rows.get(0));
        assertTrue(rows.get(1).endsWith(" 4"), "4096 bytes are 4 KiB: " + rows.get(1));

        String json = BenchTable.json("device", "backend", Precision.HIGHEST, null, List.of(uncounted, counted));
        assertTrue(json.endsWith("}\n"), json);
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> results = (List<Map<String, Object>>) JSON.std.mapFrom(json).get("results");
        assertNull(results.get(0).get("heap_bytes_per_call"));
        assertEquals(4096, ((Number) results.get(1).get("heap_bytes_per_call")).intValue());
    }

    /**
     * fused_over_bare_bytes divides the fused residual call's time ratio to the bare call (call_ms on a device, ms
     * on the Java path) by the ratio of the bytes moved; null where epilogue_ms is unmeasured.
     */
    @Test
    void fusedOverBareBytesIsTheTimeRatioOverTheBytesRatio() throws IOException {
        long bytes = 3000;
        long residualBytes = 1000;
        BenchResult host = new BenchResult("host", 1, 0.5, 4.0, Double.NaN, Double.NaN, Double.NaN, 6.0, 7.0, 4.2,
                4.4, null, 1e-7, 0, bytes, residualBytes);
        BenchResult device = new BenchResult("device", 1, 0.5, 9.0, 1.0, 2.0, 2.5, 3.0, 4.0, 2.1, 2.2, null, 1e-7, 0,
                bytes, residualBytes);
        BenchResult unmeasured = new BenchResult("none", 1, 0.5, 4.0, Double.NaN, Double.NaN, Double.NaN,
                Double.NaN, Double.NaN, Double.NaN, Double.NaN, "not measured", 1e-7, 0, bytes, 0);
        double bytesRatio = (double) (bytes + residualBytes) / bytes;
        String json = BenchTable.json("device", "backend", Precision.HIGHEST, null,
                List.of(host, device, unmeasured));
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> results = (List<Map<String, Object>>) JSON.std.mapFrom(json).get("results");
        assertEquals(host.epilogueMs() / host.ms() / bytesRatio,
                ((Number) results.get(0).get("fused_over_bare_bytes")).doubleValue(), 1e-12);
        assertEquals(device.epilogueMs() / device.callMs() / bytesRatio,
                ((Number) results.get(1).get("fused_over_bare_bytes")).doubleValue(), 1e-12);
        assertEquals(host.activationMs(), ((Number) results.get(0).get("activation_ms")).doubleValue());
        assertEquals(device.inPlaceMs(), ((Number) results.get(1).get("inplace_ms")).doubleValue());
        assertTrue(results.get(2).containsKey("fused_over_bare_bytes"), "the key is always there: " + results);
        assertNull(results.get(2).get("fused_over_bare_bytes"));
        assertNull(results.get(2).get("activation_ms"));
        assertTrue(results.get(2).containsKey("inplace_ms"), "the key is always there: " + results);
        assertNull(results.get(2).get("inplace_ms"));
    }

    /** On a device the network total also weights the device-resident chain time; the table's last line shows both. */
    @Test
    void aNetworkTotalWeightsBothTimesByCount() throws IOException {
        BenchShape often = shape("often", 3);
        BenchShape once = shape("once", 1);
        BenchResult a = new BenchResult("often", 1, 0.5, 4.0, 1.0, 1.5, 2.0, Double.NaN, Double.NaN, Double.NaN,
                Double.NaN, null, 1e-7, 0, 1000, 0);
        BenchResult b = new BenchResult("once", 1, 0.5, 8.0, 2.0, 2.5, 3.0, Double.NaN, Double.NaN, Double.NaN,
                Double.NaN, null, 1e-7, 0, 1000, 0);
        NetworkTotal total = NetworkTotal.of(List.of(often, once), List.of(a, b));
        assertEquals(often.count() + once.count(), total.convolutions());
        assertEquals(often.count() * a.ms() + once.count() * b.ms(), total.ms(), 1e-12);
        assertEquals(often.count() * a.chainMs() + once.count() * b.chainMs(), total.chainMs(), 1e-12);

        StringWriter text = new StringWriter();
        try (PrintWriter out = new PrintWriter(text)) {
            BenchTable.printNetworkTotal(out, total);
        }
        assertTrue(text.toString().contains(String.format(java.util.Locale.ROOT, "of count x chain_ms %.3f ms",
                total.chainMs())), text.toString());
        String json = BenchTable.json("device", "backend", Precision.HIGHEST, null, List.of(a, b),
                List.of(often, once));
        @SuppressWarnings("unchecked")
        Map<String, Object> network = (Map<String, Object>) JSON.std.mapFrom(json).get("network");
        assertEquals(total.chainMs(), ((Number) network.get("chain_ms")).doubleValue(), 1e-12);
    }

    private static BenchShape shape(String name, int count) {
        return new BenchShape(name, new int[] {4, 4}, 2, 2, new int[] {1, 1}, new int[] {1, 1}, new int[] {1, 1},
                new int[] {1, 1}, org.convcl.Padding.of(0), 1, 1, 1, count);
    }
}
