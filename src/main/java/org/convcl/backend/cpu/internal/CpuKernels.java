package org.convcl.backend.cpu.internal;

import org.convcl.backend.internal.PoolRowKernel;
import org.convcl.backend.internal.HostEpilogue;
import org.convcl.internal.Settings;
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
    /** Whether the JVM opened the Vector API; decided (and, when it did not, logged) once, as the class loads. */
    private static final boolean VECTOR_MODULE = vectorModuleOpened();
    private static final RowKernel VECTOR = VECTOR_MODULE ? loadVectorKernel("VectorConvKernel") : null;
    private static final RowKernel VECTOR_DEPTHWISE = VECTOR_MODULE ? loadVectorKernel("VectorDepthwiseKernel") : null;
    /**
     * Winograd tiles ({@link WinogradTiles}) where they apply; off with {@code convcl.cpu.noWinograd}, for
     * comparisons. Plain loops have none: there the transforms would cost more than they save.
     */
    private static final TileKernel WINOGRAD = VECTOR_MODULE && !Settings.CPU_NO_WINOGRAD.get()
            ? loadVectorKernel("VectorWinogradKernel") : null;
    /** Winograd phases ({@link WinogradPhases}) for strided and input-dilated cases; off with the same switch. */
    private static final PhaseKernel WINOGRAD_PHASES = WINOGRAD == null ? null
            : loadVectorKernel("VectorWinogradPhases");

    /** The 1x1 convolutions' matrix multiply ({@link PointwiseTasks}); plain loops keep the row kernels. */
    private static final PointwiseKernel POINTWISE = VECTOR_MODULE ? loadVectorKernel("VectorPointwiseKernel") : null;

    /** Pooling's per-row fold ({@code HostPooling}): vectors where the module is open, else plain loops. */
    private static final PoolRowKernel POOL_ROWS = poolRowKernel();

    /** The fused store's arithmetic: one Vector API pass where the module is open, else HostEpilogue's loops. */
    private static final EpilogueKernel EPILOGUE = epilogueKernel();

    private CpuKernels() {
    }

    /** The fused store's arithmetic for this JVM (see {@link EpilogueKernel}). */
    public static EpilogueKernel epilogue() {
        return EPILOGUE;
    }

    /** Pooling's per-row fold for this JVM (see {@link PoolRowKernel}). */
    public static PoolRowKernel poolRows() {
        return POOL_ROWS;
    }

    private static PoolRowKernel poolRowKernel() {
        PoolRowKernel vector = VECTOR_MODULE ? loadVectorKernel("VectorPoolRowKernel") : null;
        return vector != null ? vector : PoolRowKernel.SCALAR;
    }

    private static EpilogueKernel epilogueKernel() {
        EpilogueKernel vector = VECTOR_MODULE ? loadVectorKernel("VectorEpilogueKernel") : null;
        return vector != null ? vector : HostEpilogue::apply;
    }

    /** Whether the Vector API kernel is in use. */
    public static boolean vectorApiAvailable() {
        return VECTOR != null;
    }

    /** The Winograd tile kernel, or null where the Java path has none (no Vector API, or turned off). */
    public static TileKernel winograd() {
        return WINOGRAD;
    }

    /** The 1x1 convolutions' kernel, or null where the Java path has none (no Vector API). */
    public static PointwiseKernel pointwise() {
        return POINTWISE;
    }

    /** The Winograd phase kernel, or null where the Java path has none. */
    public static PhaseKernel winogradPhases() {
        return WINOGRAD_PHASES;
    }

    public static RowKernel select(ConvRows rows) {
        if (DepthwiseKernel.applies(rows)) {
            return VECTOR_DEPTHWISE != null ? VECTOR_DEPTHWISE : DEPTHWISE;
        }
        return VECTOR != null ? VECTOR : SCALAR;
    }

    /**
     * Whether the Vector API may be used. Its absence is the JVM's flag missing, which costs far more than a user
     * would guess and which only the user can fix, so it is a WARN, once per JVM; turning it off on purpose
     * ({@code convcl.cpu.noVectorApi}, for comparisons) is not.
     */
    private static boolean vectorModuleOpened() {
        if (Settings.CPU_NO_VECTOR_API.get()) {
            LOG.debug("Vector API turned off by convcl.cpu.noVectorApi: plain loops");
            return false;
        }
        if (ModuleLayer.boot().findModule(VectorApiAbsence.MODULE).isEmpty()) {
            LOG.warn(VectorApiAbsence.WARNING);
            return false;
        }
        return true;
    }

    @SuppressWarnings("unchecked")
    private static <T> T loadVectorKernel(String simpleName) {
        try {
            // Loaded by name so that this class links without the incubator module.
            return (T) Class.forName(CpuKernels.class.getPackageName() + "." + simpleName)
                    .getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException | LinkageError e) {
            LOG.info("Vector API kernel unavailable ({}); using plain loops", e.toString());
            return null;
        }
    }
}
