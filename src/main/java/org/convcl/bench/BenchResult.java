package org.convcl.bench;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One shape's measurement. Times are medians in milliseconds: {@code ms} host arrays in and out; on a device also
 * {@code deviceMs} (the call's kernels, from profiling events), {@code callMs} (one call into a reused output,
 * synchronised) and {@code chainMs} (layer calls on device tensors back to back, one wait, per call), each NaN
 * where the backend has no device-resident path. {@code heapBytesPerCall} is Java heap allocated during one
 * host-array call, all threads (-1 where the runtime cannot count it).
 *
 * <p>{@code epilogueMs} is the convolution with a residual + ReLU epilogue fused into its store, {@code unfusedMs}
 * the same work as the bare convolution followed by the residual add and the ReLU as passes of their own; on the
 * Java path with host arrays (compare with {@code ms}), on a device with device tensors, one synchronised call
 * (compare with {@code callMs}). Both NaN, with {@code epilogueNote} saying why, where they could not be measured.
 * {@code maxRelErr} covers every result checked, the epilogue's included. {@code bytesPerCall} is what one call
 * reads and writes at the operands' storage type (input, kernel, bias and output; 4 bytes an element in float32, 2
 * in float16 and bfloat16), so that runs of the types can be compared.
 */
public record BenchResult(String name, int batch, double gflop, double ms, double deviceMs, double callMs,
        double chainMs, double epilogueMs, double unfusedMs, String epilogueNote, double maxRelErr,
        long heapBytesPerCall, long bytesPerCall) {

    /** Throughput of the device's kernels where there is a device, else of the host-array call. */
    public double gflops() {
        double best = Double.isNaN(deviceMs) ? ms : deviceMs;
        return gflop / (best / 1e3);
    }

    Map<String, Object> toJson() {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("name", name);
        json.put("batch", batch);
        json.put("gflop", gflop);
        json.put("ms", ms);
        json.put("device_ms", nullIfNaN(deviceMs));
        json.put("call_ms", nullIfNaN(callMs));
        json.put("chain_ms", nullIfNaN(chainMs));
        json.put("epilogue_ms", nullIfNaN(epilogueMs));
        json.put("unfused_ms", nullIfNaN(unfusedMs));
        json.put("epilogue_note", epilogueNote);
        json.put("gflops", gflops());
        json.put("max_rel_err", maxRelErr);
        json.put("bytes_per_call", bytesPerCall);
        json.put("heap_bytes_per_call", heapBytesPerCall < 0 ? null : heapBytesPerCall);
        return json;
    }

    private static Double nullIfNaN(double value) {
        return Double.isNaN(value) ? null : value;
    }
}
