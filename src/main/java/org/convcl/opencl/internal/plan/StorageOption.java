package org.convcl.opencl.internal.plan;

import org.convcl.DType;
import org.convcl.opencl.internal.runtime.BuildOptions;

/**
 * The storage type of a forward kernel's operands ({@link org.convcl.ConvGeometry#storage}) as
 * {@code kernels/storage.cl}'s {@code STORAGE} option, which that file, compiled in front of each forward kernel,
 * turns into its loads and stores. Stateless.
 */
final class StorageOption {
    /** Compiled in front of every forward kernel, float32 ones included (its macros are their loads and stores). */
    static final String SOURCE = "storage.cl";

    private StorageOption() {
    }

    /**
     * {@code options} with {@code STORAGE} for {@code storage}: defined only for a 16-bit type, so that a float32
     * plan's options, and so its cached program, are those of before the 16-bit types.
     */
    static BuildOptions define(BuildOptions options, DType storage) {
        return switch (storage) {
            case FLOAT32 -> options;
            case FLOAT16 -> options.define("STORAGE", 1);
            case BFLOAT16 -> options.define("STORAGE", 2);
        };
    }
}
