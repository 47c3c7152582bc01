package org.convcl.opencl.internal.tuning;

import java.util.Map;
import org.convcl.opencl.internal.plan.ForwardVariants;
import org.convcl.opencl.internal.plan.KernelConfig;

/**
 * {@link KernelConfig} as a JSON object of the tuning database:
 * {@code {"kernel": "gemm", "tile_m": 128, "tile_n": 64, "tile_k": 16, "wpt_m": 8, "wpt_n": 4, "vwm": 4,
 * "vwn": 4, "vec_k": 4, "stages": 2}} (with {@code "mma": true} for a warp-level mma tiling), {@code {"kernel": "depthwise", "vector": 4, "outputs_per_item": 4, "work_group": 128}}
 * or {@code {"kernel": "general", "work_group": 64}}: the variant's name, then its fields
 * ({@code ForwardVariant#toJson}).
 */
final class KernelConfigJson {
    private KernelConfigJson() {
    }

    static Map<String, Object> toJson(KernelConfig config) {
        return ForwardVariants.toJson(config);
    }

    /** The config {@code json} describes; IllegalArgumentException when it is malformed or invalid. */
    static KernelConfig fromJson(Object json) {
        if (!(json instanceof Map<?, ?> map)) {
            throw new IllegalArgumentException("config: expected an object, got " + json);
        }
        return ForwardVariants.fromJson(map);
    }
}
