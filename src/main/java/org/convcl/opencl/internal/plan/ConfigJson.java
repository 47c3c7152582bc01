package org.convcl.opencl.internal.plan;

import java.util.Map;

/** Reading the fields of a config's JSON object ({@link ForwardVariant#fromJson}). Stateless. */
final class ConfigJson {
    private ConfigJson() {
    }

    /** A required int. */
    static int number(Map<?, ?> map, String key) {
        if (!(map.get(key) instanceof Number value) || value.doubleValue() != value.intValue()) {
            throw new IllegalArgumentException("config: '" + key + "' is not an int: " + map.get(key));
        }
        return value.intValue();
    }

    /** An optional boolean, false when absent. */
    static boolean flag(Map<?, ?> map, String key) {
        Object value = map.get(key);
        if (value == null) {
            return false;
        }
        if (!(value instanceof Boolean bool)) {
            throw new IllegalArgumentException("config: '" + key + "' is not a boolean: " + value);
        }
        return bool;
    }
}
