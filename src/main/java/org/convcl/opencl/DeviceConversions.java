package org.convcl.opencl;

import org.convcl.DType;
import org.convcl.opencl.internal.plan.ConversionKernels;
import org.convcl.opencl.internal.runtime.ClBuffer;
import org.convcl.opencl.internal.runtime.OpenClContext;

/**
 * Conversions between float32 and a 16-bit storage type ({@link DType#FLOAT16}, {@link DType#BFLOAT16}) on an
 * {@link OpenClBackend}'s device buffers, so that half-precision data is converted where it lies instead of in Java
 * loops (issue 26): the groundwork for device tensors of those types, which will upload 16-bit bits and widen them
 * here, or narrow results here before a download. Each call checks its operands and enqueues one kernel on the
 * compute queue (in order with the calls around it) under the backend's {@link Lifecycle}; the caller waits as
 * for any kernel. The kernels ({@link ConversionKernels}) live in the backend's plan cache. Thread-safe.
 */
final class DeviceConversions {
    private static final PlanCache.Key KERNELS = new PlanCache.Key("conversions", "float16 and bfloat16");

    private final Lifecycle lifecycle;
    private final OpenClContext context;
    private final PlanCache cache;

    DeviceConversions(Lifecycle lifecycle, OpenClContext context, PlanCache cache) {
        this.lifecycle = lifecycle;
        this.context = context;
        this.cache = cache;
    }

    /** Enqueues {@code packed[i] = floats[i]} rounded to {@code type} (nearest even) for i below {@code length}. */
    void encode(DType type, int length, ClBuffer floats, ClBuffer packed) {
        check("encode", type, length, floats, packed);
        if (length > 0) {
            lifecycle.run(() -> {
                try (PlanCache.Lease<ConversionKernels> kernels = kernels()) {
                    kernels.plan().encode(context, type, length, floats, packed);
                }
            });
        }
    }

    /** Enqueues {@code floats[i] = packed[i]}, of {@code type}, widened to float32 (exact), i below {@code length}. */
    void decode(DType type, int length, ClBuffer packed, ClBuffer floats) {
        check("decode", type, length, floats, packed);
        if (length > 0) {
            lifecycle.run(() -> {
                try (PlanCache.Lease<ConversionKernels> kernels = kernels()) {
                    kernels.plan().decode(context, type, length, packed, floats);
                }
            });
        }
    }

    private PlanCache.Lease<ConversionKernels> kernels() {
        return cache.acquire(KERNELS, () -> ConversionKernels.create(context));
    }

    private static void check(String call, DType type, int length, ClBuffer floats, ClBuffer packed) {
        if (type != DType.FLOAT16 && type != DType.BFLOAT16) {
            throw new IllegalArgumentException(call + ": type " + type + " is not a 16-bit type; expected FLOAT16 "
                    + "or BFLOAT16");
        }
        if (length < 0) {
            throw new IllegalArgumentException(call + ": length " + length + " must be >= 0");
        }
        checkHolds(call, "floats", floats, length, DType.FLOAT32);
        checkHolds(call, "packed", packed, length, type);
        if (floats == packed) {
            throw new IllegalArgumentException(call + ": floats and packed are the same buffer; a conversion "
                    + "writes a buffer of its own");
        }
    }

    private static void checkHolds(String call, String what, ClBuffer buffer, int length, DType type) {
        if (buffer == null) {
            throw new IllegalArgumentException(call + ": " + what + " is null; expected a device buffer of "
                    + length + " " + type.cliName() + " values");
        }
        if (buffer.bytes() < (long) length * type.bytes()) {
            throw new IllegalArgumentException(call + ": " + what + " holds " + buffer.bytes() + " bytes, fewer than "
                    + length + " " + type.cliName() + " values need (" + (long) length * type.bytes() + ")");
        }
    }
}
