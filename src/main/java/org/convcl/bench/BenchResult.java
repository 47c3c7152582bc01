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
 * (compare with {@code callMs}). {@code activationMs} is the convolution with a per-channel scale + shift + ReLU
 * epilogue fused into its store and no residual (a conv + folded batch norm + ReLU layer), timed as
 * {@code epilogueMs} is. {@code inPlaceMs} is the {@code epilogueMs} call with the output written over the
 * residual (the output is the residual's own array or buffer, filled with the residual before each call, as the
 * output is filled with NaN before the bare call): a ResNet block's last convolution, which adds its shortcut in
 * place. Each NaN, with {@code epilogueNote} saying why, where it could not be measured.
 * {@code maxRelErr} covers every result checked, the epilogues' included. {@code bytesPerCall} is what one call
 * reads and writes at the operands' storage type (input, kernel, bias and output; 4 bytes an element in float32, 2
 * in float16 and bfloat16), so that runs of the types can be compared; {@code residualBytes} what the residual adds
 * to it in the {@code epilogueMs} call (0 where that is not measured).
 */
public record BenchResult(String name, int batch, double gflop, double ms, double deviceMs, double callMs,
        double chainMs, double epilogueMs, double unfusedMs, double activationMs, double inPlaceMs,
        String epilogueNote, double maxRelErr, long heapBytesPerCall, long bytesPerCall, long residualBytes) {

    /** Throughput of the device's kernels where there is a device, else of the host-array call. */
    public double gflops() {
        double best = Double.isNaN(deviceMs) ? ms : deviceMs;
        return gflop / (best / 1e3);
    }

    /** The bare call's time that the epilogue times compare with: {@code callMs} on a device, else {@code ms}. */
    public double bareMs() {
        return Double.isNaN(callMs) ? ms : callMs;
    }

    /**
     * The fused residual call's time per byte moved over the bare call's: {@code (epilogueMs / bare) / ((bytes +
     * residual bytes) / bytes)}. 1 where the residual call is as fast per byte as the bare call, so that its extra
     * time is its extra bytes' bandwidth; above 1 by what the epilogue costs beyond them. NaN where unmeasured.
     */
    public double fusedOverBareBytes() {
        if (Double.isNaN(epilogueMs) || residualBytes <= 0 || bytesPerCall <= 0) {
            return Double.NaN;
        }
        return (epilogueMs / bareMs()) / ((double) (bytesPerCall + residualBytes) / bytesPerCall);
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
        json.put("activation_ms", nullIfNaN(activationMs));
        json.put("inplace_ms", nullIfNaN(inPlaceMs));
        json.put("fused_over_bare_bytes", nullIfNaN(fusedOverBareBytes()));
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
