package org.convcl.backend;

import java.util.Locale;

/** Which backend a caller asks for. */
public enum BackendChoice {
    /** A GPU or accelerator OpenCL device when one exists, else the Java path. */
    AUTO,
    /** The pure-Java path. */
    CPU,
    /** The best OpenCL device of any type; an error when none can be used. */
    OPENCL;

    /** Parses {@code auto}, {@code cpu} or {@code opencl} in any letter case. */
    public static BackendChoice parse(String text) {
        if (text != null) {
            for (BackendChoice choice : values()) {
                if (choice.name().equalsIgnoreCase(text.trim())) {
                    return choice;
                }
            }
        }
        throw new IllegalArgumentException("backend: got '" + text + "'; expected auto, cpu or opencl");
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
