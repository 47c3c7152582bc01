package org.convcl.bench;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One shape's measurement. Times are medians in milliseconds; {@code kernelMs} is NaN where the backend has
 * no device-resident path; {@code heapBytesPerCall} is Java heap allocated during one call, all threads (-1 where the runtime
 * cannot count it).
 */
public record BenchResult(String name, int batch, double gflop, double ms, double kernelMs, double maxRelErr,
        long heapBytesPerCall) {

    /** Throughput of the fastest path measured (kernel-only where there is one). */
    public double gflops() {
        double best = Double.isNaN(kernelMs) ? ms : kernelMs;
        return gflop / (best / 1e3);
    }

    Map<String, Object> toJson() {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("name", name);
        json.put("batch", batch);
        json.put("gflop", gflop);
        json.put("ms", ms);
        json.put("kernel_ms", Double.isNaN(kernelMs) ? null : kernelMs);
        json.put("gflops", gflops());
        json.put("max_rel_err", maxRelErr);
        json.put("heap_bytes_per_call", heapBytesPerCall < 0 ? null : heapBytesPerCall);
        return json;
    }
}
