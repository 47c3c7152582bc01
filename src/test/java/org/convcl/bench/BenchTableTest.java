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
                null, 1e-7, HeapCounter.UNKNOWN, 1000);
        BenchResult counted = new BenchResult("other", 2, 1.5, 3.0, Double.NaN, Double.NaN, Double.NaN, Double.NaN,
                Double.NaN, "epilogue_ms not measured: not yet", 1e-7, 4096, 1000);
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

    /** On a device the network total also weights the device-resident chain time; the table's last line shows both. */
    @Test
    void aNetworkTotalWeightsBothTimesByCount() throws IOException {
        BenchShape often = shape("often", 3);
        BenchShape once = shape("once", 1);
        BenchResult a = new BenchResult("often", 1, 0.5, 4.0, 1.0, 1.5, 2.0, Double.NaN, Double.NaN, null, 1e-7, 0,
                1000);
        BenchResult b = new BenchResult("once", 1, 0.5, 8.0, 2.0, 2.5, 3.0, Double.NaN, Double.NaN, null, 1e-7, 0,
                1000);
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
