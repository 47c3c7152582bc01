package org.convcl.opencl.internal.runtime;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code -D NAME=value} options that specialise a kernel source for one plan: the only text the host
 * contributes to a program. Integer values only, names checked, order kept, so equal plans give equal
 * strings (and hit the same cached program). Not thread-safe; build one per plan.
 */
public final class BuildOptions {
    private final Map<String, Long> defines = new LinkedHashMap<>();

    public BuildOptions define(String name, long value) {
        if (!name.matches("[A-Z][A-Z0-9_]*")) {
            throw new IllegalArgumentException("build option name '" + name + "' is not an upper-case C identifier");
        }
        if (defines.putIfAbsent(name, value) != null) {
            throw new IllegalArgumentException("build option " + name + " is defined twice");
        }
        return this;
    }

    public BuildOptions define(String name, boolean value) {
        return define(name, value ? 1 : 0);
    }

    @Override
    public String toString() {
        StringBuilder text = new StringBuilder();
        for (Map.Entry<String, Long> define : defines.entrySet()) {
            if (text.length() > 0) {
                text.append(' ');
            }
            text.append("-D ").append(define.getKey()).append('=').append(define.getValue());
        }
        return text.toString();
    }
}
