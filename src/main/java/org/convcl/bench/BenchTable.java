package org.convcl.bench;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.convcl.Precision;
import org.convcl.internal.Json;

/** Formats bench results as a text table and as the documented JSON report. */
public final class BenchTable {
    private BenchTable() {
    }

    /** The device, the backend, the link's measured speed (device backends only, else null) and the columns. */
    public static void printHeader(PrintWriter out, String device, String backend, LinkSpeed link) {
        printHeader(out, device, backend, Precision.HIGHEST, link);
    }

    /** The table's header: device, backend, the precision when it is not float32, the link, the columns. */
    public static void printHeader(PrintWriter out, String device, String backend, Precision precision,
            LinkSpeed link) {
        out.printf(Locale.ROOT, "device: %s%nbackend: %s%n", device, backend);
        if (precision != Precision.HIGHEST) {
            out.printf(Locale.ROOT, "precision: %s%n", precision.cliName());
        }
        if (link != null) {
            out.printf(Locale.ROOT, "link: host to device %.2f GB/s, device to host %.2f GB/s (Java heap arrays)%n",
                    link.h2dGbps(), link.d2hGbps());
        }
        out.printf(Locale.ROOT, "%-16s %5s %8s %10s %10s %10s %10s %11s %10s %9s %11s %10s%n", "shape", "batch",
                "gflop", "ms", "device_ms", "call_ms", "chain_ms", "epilogue_ms", "unfused_ms", "gflops",
                "max_rel_err", "heap_kb");
    }

    public static void printRow(PrintWriter out, BenchResult r) {
        out.printf(Locale.ROOT, "%-16s %5d %8.3f %10.3f %10s %10s %10s %11s %10s %9.1f %11.2e %10s%n", r.name(),
                r.batch(), r.gflop(), r.ms(), orDash(r.deviceMs()), orDash(r.callMs()), orDash(r.chainMs()),
                orDash(r.epilogueMs()), orDash(r.unfusedMs()), r.gflops(), r.maxRelErr(),
                r.heapBytesPerCall() < 0 ? "-" : Long.toString(r.heapBytesPerCall() / 1024));
    }

    private static String orDash(double millis) {
        return Double.isNaN(millis) ? "-" : String.format(Locale.ROOT, "%.3f", millis);
    }

    /**
     * {@code {"device", "backend", "precision", "link", "results": [...]}}, ending in a newline; {@code link} is
     * null for backends without a device. The CLI writes it through its output rules (cli/StagedOutput).
     */
    public static String json(String device, String backend, Precision precision, LinkSpeed link,
            List<BenchResult> results) {
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("device", device);
        report.put("backend", backend);
        report.put("precision", precision.cliName());
        report.put("link", link == null ? null : link.toJson());
        List<Map<String, Object>> rows = new ArrayList<>();
        for (BenchResult result : results) {
            rows.add(result.toJson());
        }
        report.put("results", rows);
        return Json.write(report) + "\n";
    }
}
