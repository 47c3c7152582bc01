package org.convcl.backend.cpu;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chooses the row kernel for a geometry. The Vector API kernel is used when the JVM was started with
 * {@code --add-modules jdk.incubator.vector}; without it the library still works, on plain loops.
 * Thread-safe: the choice is made once, when the class loads, and the kernels are stateless.
 */
public final class CpuKernels {
    private static final Logger LOG = LoggerFactory.getLogger(CpuKernels.class);
    private static final RowKernel SCALAR = new ScalarConvKernel();
    private static final RowKernel DEPTHWISE = new DepthwiseKernel();
    private static final RowKernel VECTOR = loadVectorKernel("VectorConvKernel");
    private static final RowKernel VECTOR_DEPTHWISE = loadVectorKernel("VectorDepthwiseKernel");

    private CpuKernels() {
    }

    /** Whether the Vector API kernel is in use. */
    public static boolean vectorApiAvailable() {
        return VECTOR != null;
    }

    public static RowKernel select(ConvRows rows) {
        if (DepthwiseKernel.applies(rows)) {
            return VECTOR_DEPTHWISE != null ? VECTOR_DEPTHWISE : DEPTHWISE;
        }
        return VECTOR != null ? VECTOR : SCALAR;
    }

    private static RowKernel loadVectorKernel(String simpleName) {
        if (Boolean.getBoolean("convcl.cpu.noVectorApi")
                || ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            LOG.debug("Vector API absent (start the JVM with --add-modules jdk.incubator.vector): plain loops");
            return null;
        }
        try {
            // Loaded by name so that this class links without the incubator module.
            return (RowKernel) Class.forName(CpuKernels.class.getPackageName() + "." + simpleName)
                    .getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException | LinkageError e) {
            LOG.info("Vector API kernel unavailable ({}); using plain loops", e.toString());
            return null;
        }
    }
}
