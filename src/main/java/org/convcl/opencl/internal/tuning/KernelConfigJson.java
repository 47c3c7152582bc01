package org.convcl.opencl.internal.tuning;

import java.util.LinkedHashMap;
import java.util.Map;
import org.convcl.opencl.internal.plan.KernelConfig;
import org.convcl.opencl.internal.plan.Tiling;

/**
 * {@link KernelConfig} as a JSON object of the tuning database:
 * {@code {"kernel": "gemm", "tile_m": 128, "tile_n": 64, "tile_k": 16, "wpt_m": 8, "wpt_n": 4, "vwm": 4,
 * "vwn": 4, "vec_k": 4, "stages": 2}} (with {@code "mma": true} for a warp-level mma tiling), {@code {"kernel": "depthwise", "vector": 4, "outputs_per_item": 4, "work_group": 128}}
 * or {@code {"kernel": "general", "work_group": 64}}.
 */
final class KernelConfigJson {
    private KernelConfigJson() {
    }

    static Map<String, Object> toJson(KernelConfig config) {
        Map<String, Object> json = new LinkedHashMap<>();
        if (config instanceof KernelConfig.Gemm gemm) {
            Tiling t = gemm.tiling();
            json.put("kernel", "gemm");
            json.put("tile_m", t.tileM());
            json.put("tile_n", t.tileN());
            json.put("tile_k", t.tileK());
            json.put("wpt_m", t.workPerItemM());
            json.put("wpt_n", t.workPerItemN());
            json.put("vwm", t.vectorM());
            json.put("vwn", t.vectorN());
            json.put("vec_k", t.vectorK());
            json.put("stages", t.stages());
            if (t.mma()) {
                json.put("mma", true);
            }
        } else if (config instanceof KernelConfig.Depthwise depthwise) {
            json.put("kernel", "depthwise");
            json.put("vector", depthwise.vectorWidth());
            json.put("outputs_per_item", depthwise.outputsPerItem());
            json.put("work_group", depthwise.workGroupSize());
        } else {
            json.put("kernel", "general");
            json.put("work_group", ((KernelConfig.General) config).workGroupSize());
        }
        return json;
    }

    /** The config {@code json} describes; IllegalArgumentException when it is malformed or invalid. */
    static KernelConfig fromJson(Object json) {
        if (!(json instanceof Map<?, ?> map)) {
            throw new IllegalArgumentException("config: expected an object, got " + json);
        }
        Object kernel = map.get("kernel");
        if ("gemm".equals(kernel)) {
            return new KernelConfig.Gemm(new Tiling(number(map, "tile_m"), number(map, "tile_n"), number(map, "tile_k"),
                    number(map, "wpt_m"), number(map, "wpt_n"), number(map, "vwm"), number(map, "vwn"),
                    number(map, "vec_k"), map.containsKey("stages") ? number(map, "stages") : 1, flag(map, "mma")));
        }
        if ("depthwise".equals(kernel)) {
            return new KernelConfig.Depthwise(number(map, "vector"), number(map, "outputs_per_item"),
                    number(map, "work_group"));
        }
        if ("general".equals(kernel)) {
            return new KernelConfig.General(number(map, "work_group"));
        }
        throw new IllegalArgumentException("config: unknown kernel " + kernel);
    }

    /** An optional boolean, false when absent. */
    private static boolean flag(Map<?, ?> map, String key) {
        Object value = map.get(key);
        if (value == null) {
            return false;
        }
        if (!(value instanceof Boolean bool)) {
            throw new IllegalArgumentException("config: '" + key + "' is not a boolean: " + value);
        }
        return bool;
    }

    private static int number(Map<?, ?> map, String key) {
        if (!(map.get(key) instanceof Number value) || value.doubleValue() != value.intValue()) {
            throw new IllegalArgumentException("config: '" + key + "' is not an int: " + map.get(key));
        }
        return value.intValue();
    }
}
