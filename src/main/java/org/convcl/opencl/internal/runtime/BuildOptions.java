package org.convcl.opencl.internal.runtime;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code -D NAME=value} options that specialise a kernel source for one plan: the only text the host
 * contributes to a program. Integer values only, names checked, order kept, so equal plans give equal
 * strings (and hit the same cached program). Not thread-safe; build one per plan.
 */
public final class BuildOptions {
    private final Map<String, String> defines = new LinkedHashMap<>();

    public BuildOptions define(String name, long value) {
        return put(name, Long.toString(value));
    }

    public BuildOptions define(String name, boolean value) {
        return define(name, value ? 1 : 0);
    }

    /**
     * {@code name} as a float literal holding exactly {@code value} ({@code 0x1.47ae14p-7f}): a decimal string
     * could round differently in the device compiler. Only finite values have such a literal.
     */
    public BuildOptions define(String name, float value) {
        if (!Float.isFinite(value)) {
            throw new IllegalArgumentException("build option " + name + " is " + value + "; a float option must be "
                    + "finite");
        }
        return put(name, Float.toHexString(value) + "f");
    }

    private BuildOptions put(String name, String value) {
        if (!name.matches("[A-Z][A-Z0-9_]*")) {
            throw new IllegalArgumentException("build option name '" + name + "' is not an upper-case C identifier");
        }
        if (defines.putIfAbsent(name, value) != null) {
            throw new IllegalArgumentException("build option " + name + " is defined twice");
        }
        return this;
    }

    @Override
    public String toString() {
        StringBuilder text = new StringBuilder();
        for (Map.Entry<String, String> define : defines.entrySet()) {
            if (text.length() > 0) {
                text.append(' ');
            }
            text.append("-D ").append(define.getKey()).append('=').append(define.getValue());
        }
        return text.toString();
    }
}
