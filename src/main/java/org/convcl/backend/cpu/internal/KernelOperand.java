package org.convcl.backend.cpu.internal;

import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;
import org.convcl.ConvGeometry;
import org.convcl.Precision;
import org.convcl.internal.Tf32;

/**
 * One forward call's kernel: the caller's array, the operand the kernels multiply by (a TF32-rounded copy under
 * {@link Precision#TF32}, made only when a form must be prepared), and its prepared forms through
 * {@link PreparedKernels}. Remembers whether a form proved the operand finite, which spares the call the scan for
 * non-finite weights. For one call on one thread.
 */
public final class KernelOperand {
    private final ConvGeometry g;
    private final float[] kernel;
    private final PreparedKernels cache;
    private float[] operand;
    private boolean knownFinite;

    public KernelOperand(ConvGeometry g, float[] kernel, PreparedKernels cache) {
        this.g = g;
        this.kernel = kernel;
        this.cache = cache;
    }

    /** The values the kernels multiply by: the caller's, or their TF32-rounded copy (made once). */
    public float[] values() {
        if (operand == null) {
            operand = g.productPrecision() == Precision.TF32 ? Tf32.roundedCopy(kernel) : kernel;
        }
        return operand;
    }

    /**
     * {@code prepare} of {@link #values()} as form {@code form}, kept across calls while the caller's kernel keeps
     * its values; null when {@code prepare} refuses the kernel. {@code refusesNonFinite}: {@code prepare} gives
     * null for a kernel with a NaN or an infinity, so a form it gives proves the kernel finite.
     */
    public float[] prepared(PreparedKernels.Form form, UnaryOperator<float[]> prepare, boolean refusesNonFinite) {
        return prepared(form, prepare, refusesNonFinite, null);
    }

    /**
     * {@link #prepared(PreparedKernels.Form, UnaryOperator, boolean)} for a form made of the operand's own values
     * rearranged, which {@code holds} compares with a kernel directly (see {@link PreparedKernels.Holds}); used only
     * while the operand is the caller's array, since a TF32-rounded form holds other values than the caller's.
     */
    public float[] prepared(PreparedKernels.Form form, UnaryOperator<float[]> prepare, boolean refusesNonFinite,
            PreparedKernels.Holds holds) {
        BooleanSupplier finite = refusesNonFinite ? () -> true : () -> allFinite(values());
        PreparedKernels.Holds direct = g.productPrecision() == Precision.TF32 ? null : holds;
        PreparedKernels.Prepared result = cache.get(g, form, kernel, () -> prepare.apply(values()), finite, direct);
        knownFinite |= result.finite();
        return result.values();
    }

    /** Whether a prepared form proved every weight of the operand finite. */
    public boolean knownFinite() {
        return knownFinite;
    }

    /** Run once per stored form, so a plain loop (this class links without the Vector API). */
    private static boolean allFinite(float[] values) {
        for (float v : values) {
            if (!Float.isFinite(v)) {
                return false;
            }
        }
        return true;
    }
}
