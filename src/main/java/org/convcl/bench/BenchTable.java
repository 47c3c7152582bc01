package org.convcl.bench;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.convcl.DType;
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
        printHeader(out, device, backend, precision, DType.FLOAT32, link);
    }

    /** {@link #printHeader(PrintWriter, String, String, Precision, LinkSpeed)} with the dtype when not float32. */
    public static void printHeader(PrintWriter out, String device, String backend, Precision precision, DType dtype,
            LinkSpeed link) {
        out.printf(Locale.ROOT, "device: %s%nbackend: %s%n", device, backend);
        if (precision != Precision.HIGHEST) {
            out.printf(Locale.ROOT, "precision: %s%n", precision.cliName());
        }
        if (dtype != DType.FLOAT32) {
            out.printf(Locale.ROOT, "dtype: %s%n", dtype.cliName());
        }
        if (link != null) {
            out.printf(Locale.ROOT, "link: host to device %.2f GB/s, device to host %.2f GB/s (Java heap arrays)%n",
                    link.h2dGbps(), link.d2hGbps());
        }
        out.printf(Locale.ROOT, "%-16s %5s %8s %10s %10s %10s %10s %11s %10s %13s %10s %9s %9s %11s %10s%n",
                "shape", "batch", "gflop", "ms", "device_ms", "call_ms", "chain_ms", "epilogue_ms", "unfused_ms",
                "activation_ms", "inplace_ms", "gflops", "moved_mb", "max_rel_err", "heap_kb");
    }

    public static void printRow(PrintWriter out, BenchResult r) {
        out.printf(Locale.ROOT,
                "%-16s %5d %8.3f %10.3f %10s %10s %10s %11s %10s %13s %10s %9.1f %9.3f %11.2e %10s%n",
                r.name(), r.batch(), r.gflop(), r.ms(), orDash(r.deviceMs()), orDash(r.callMs()), orDash(r.chainMs()),
                orDash(r.epilogueMs()), orDash(r.unfusedMs()), orDash(r.activationMs()), orDash(r.inPlaceMs()),
                r.gflops(), r.bytesPerCall() / 1e6, r.maxRelErr(),
                r.heapBytesPerCall() < 0 ? "-" : Long.toString(r.heapBytesPerCall() / 1024));
    }

    /** The line under a network suite's table: its convolutions and their count-weighted total time. */
    public static void printNetworkTotal(PrintWriter out, NetworkTotal total) {
        out.printf(Locale.ROOT, "network: %d convolutions, sum of count x ms %.3f ms", total.convolutions(),
                total.ms());
        if (!Double.isNaN(total.chainMs())) {
            out.printf(Locale.ROOT, ", of count x chain_ms %.3f ms", total.chainMs());
        }
        out.println();
    }

    private static String orDash(double millis) {
        return Double.isNaN(millis) ? "-" : String.format(Locale.ROOT, "%.3f", millis);
    }

    /** The report of a suite without counts: every "count" and the "network" total null. */
    public static String json(String device, String backend, Precision precision, LinkSpeed link,
            List<BenchResult> results) {
        return json(device, backend, precision, link, results, null);
    }

    /**
     * {@code {"device", "backend", "precision", "dtype", "link", "results": [...], "network"}}, ending in a newline;
     * {@code link} is null for backends without a device. {@code shapes} are the shapes measured, in the order of
     * {@code results}: each result carries its shape's "count", and "network" is the {@link NetworkTotal} where
     * the suite counts its shapes (both null otherwise, and where {@code shapes} is null). The CLI writes it
     * through its output rules (cli/StagedOutput).
     */
    public static String json(String device, String backend, Precision precision, LinkSpeed link,
            List<BenchResult> results, List<BenchShape> shapes) {
        return json(device, backend, precision, DType.FLOAT32, link, results, shapes);
    }

    /** The report with the operands' storage type, {@code "dtype"}, after {@code "precision"}. */
    public static String json(String device, String backend, Precision precision, DType dtype, LinkSpeed link,
            List<BenchResult> results, List<BenchShape> shapes) {
        boolean counted = shapes != null && !shapes.isEmpty() && shapes.get(0).counted();
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("device", device);
        report.put("backend", backend);
        report.put("precision", precision.cliName());
        report.put("dtype", dtype.cliName());
        report.put("link", link == null ? null : link.toJson());
        List<Map<String, Object>> rows = new ArrayList<>();
        for (int i = 0; i < results.size(); i++) {
            Map<String, Object> row = results.get(i).toJson();
            row.put("count", counted ? shapes.get(i).count() : null);
            rows.add(row);
        }
        report.put("results", rows);
        report.put("network", counted ? NetworkTotal.of(shapes, results).toJson() : null);
        return Json.write(report) + "\n";
    }
}
