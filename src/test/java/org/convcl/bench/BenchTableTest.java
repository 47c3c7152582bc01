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
        BenchResult uncounted = new BenchResult("shape", 2, 1.5, 3.0, Double.NaN, Double.NaN, Double.NaN, 3.1, 3.5, null, 1e-7,
                HeapCounter.UNKNOWN);
        BenchResult counted = new BenchResult("other", 2, 1.5, 3.0, Double.NaN, Double.NaN, Double.NaN, Double.NaN,
                Double.NaN, "epilogue_ms not measured: not yet", 1e-7, 4096);
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
}
