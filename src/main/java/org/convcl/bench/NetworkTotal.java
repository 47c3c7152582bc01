package org.convcl.bench;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A network suite's convolution cost: each shape's median time times how often the shape occurs in the network,
 * summed over the shapes run. {@code ms} weights the host-array time; {@code chainMs} the device-resident one
 * (back-to-back calls on device tensors, as a network's layers run on a device), NaN where the backend has none.
 */
public record NetworkTotal(int convolutions, double ms, double chainMs) {

    /** The total of {@code results}, measured for {@code shapes} in the same order; every shape must be counted. */
    public static NetworkTotal of(List<BenchShape> shapes, List<BenchResult> results) {
        if (shapes.size() != results.size()) {
            throw new IllegalArgumentException("network total: " + shapes.size() + " shapes but " + results.size()
                    + " results; one result per shape");
        }
        int convolutions = 0;
        double ms = 0;
        double chainMs = 0;
        for (int i = 0; i < shapes.size(); i++) {
            BenchShape shape = shapes.get(i);
            if (!shape.counted()) {
                throw new IllegalArgumentException("network total: shape " + shape.name()
                        + " has no count; only a suite with a count on every shape has a total");
            }
            convolutions += shape.count();
            ms += shape.count() * results.get(i).ms();
            chainMs += shape.count() * results.get(i).chainMs();
        }
        return new NetworkTotal(convolutions, ms, chainMs);
    }

    Map<String, Object> toJson() {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("convolutions", convolutions);
        json.put("ms", ms);
        json.put("chain_ms", Double.isNaN(chainMs) ? null : chainMs);
        return json;
    }
}
