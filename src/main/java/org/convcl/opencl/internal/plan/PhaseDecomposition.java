package org.convcl.opencl.internal.plan;

import org.convcl.ConvGeometry;
import org.convcl.backend.internal.IntMath;

/**
 * How the implicit-GEMM kernel skips the zeros of input dilation, per spatial dim (the kernel's header
 * derives it; this class computes the {@code -D} constants and mirrors the kernel's per-phase arithmetic so
 * that it can be tested without a device).
 *
 * <p>Output {@code o} reads dilated coordinate {@code q = o * stride - padLo + t * kernelDilation} through tap
 * {@code t}; only {@code q % inputDilation == 0} is a real input element. The residue repeats every
 * {@link Dim#phases()} outputs, so the outputs of a dim split into that many phases; in phase {@code ph} the
 * real taps are {@code firstTap + u * tapStep} and output {@code j} of the phase ({@code o = ph + j * phases})
 * reads input element {@code origin + j * phaseStride + u * tapDilation}. Without input dilation there is one
 * phase holding every tap.
 */
public final class PhaseDecomposition {
    private PhaseDecomposition() {
    }

    /** The compile-time constants of one dim. */
    public record Dim(int kernel, int kernelDilation, int inputDilation, int stride, int padLo, int outputs,
            int phases, int tapStep, int phaseStride, int tapDilation) {

        /**
         * The residue period {@code inputDilation / gcd(stride, inputDilation)} can be far larger than the dim's
         * outputs (a huge stride or dilation over a few positions: the input gradient of a stride-65536 layer has
         * input dilation 65536), and the kernel's grid and loops run over phases and over the taps of one
         * period: so both are bounded by the real work. Phases beyond the outputs would be empty; with
         * {@code min(period, outputs)} phases each holds at most one output (phase ph is output ph), which
         * is what the full period gives too. Likewise a tap step of at least the kernel size leaves one real
         * tap per phase, whatever its value, so it is bounded by the kernel size. The phase and tap strides
         * are {@code stride / gcd} and {@code kernelDilation / gcd} (exact, and no product that could
         * overflow); where capped they only ever multiply 0.
         */
        static Dim of(int kernel, int kernelDilation, int inputDilation, int stride, int padLo, int outputs) {
            int strideGcd = IntMath.gcd(stride, inputDilation);
            int dilationGcd = IntMath.gcd(kernelDilation, inputDilation);
            int phases = Math.max(1, Math.min(inputDilation / strideGcd, outputs));
            int tapStep = Math.min(inputDilation / dilationGcd, kernel);
            return new Dim(kernel, kernelDilation, inputDilation, stride, padLo, outputs, phases, tapStep,
                    stride / strideGcd, kernelDilation / dilationGcd);
        }

        /** The most real taps any phase has. */
        public int maxTaps() {
            return (kernel + tapStep - 1) / tapStep;
        }

        /** Outputs of phase 0, the largest. */
        public int maxPhaseOutputs() {
            return (outputs + phases - 1) / phases;
        }

        /** Phase {@code ph}: the same arithmetic as {@code phase_of} in conv_gemm.cl. */
        public Phase phase(int ph) {
            int base = ph * stride - padLo;
            int first = kernel; // none: no tap of this phase lands on a real element
            for (int t = tapStep - 1; t >= 0; t--) {
                if ((base + t * kernelDilation) % inputDilation == 0) {
                    first = t;
                }
            }
            int taps = first < kernel ? (kernel - 1 - first) / tapStep + 1 : 0;
            int origin = taps > 0 ? (base + first * kernelDilation) / inputDilation : 0;
            int phaseOutputs = ph < outputs ? (outputs - 1 - ph) / phases + 1 : 0;
            return new Phase(first, taps, origin, phaseOutputs);
        }
    }

    /** One phase of one dim. */
    public record Phase(int firstTap, int taps, int origin, int outputs) {
    }

    /** The dims of {@code g}, padded in front to rank 3 with dims of size 1 as the kernel sees them. */
    public static Dim[] of(ConvGeometry g) {
        int rank = g.rank();
        Dim[] dims = new Dim[3];
        int offset = 3 - rank;
        for (int d = 0; d < 3; d++) {
            dims[d] = d < offset ? Dim.of(1, 1, 1, 1, 0, 1)
                    : Dim.of(g.kernelSpatial()[d - offset], g.kernelDilation()[d - offset],
                            g.inputDilation()[d - offset], g.strides()[d - offset], g.padLo()[d - offset],
                            g.outSpatial()[d - offset]);
        }
        return dims;
    }

    /**
     * Phases in all (the product over dims): at most the geometry's output positions, since no dim has more
     * phases than outputs; in a long all the same, as the grid arithmetic that uses it is.
     */
    public static long phaseCount(Dim[] dims) {
        long count = 1;
        for (Dim dim : dims) {
            count *= dim.phases();
        }
        return count;
    }

    /** Output positions of the largest phase: the rows one batch element contributes to a launch's grid. */
    public static long maxPhaseOutputs(Dim[] dims) {
        long count = 1;
        for (Dim dim : dims) {
            count *= dim.maxPhaseOutputs();
        }
        return count;
    }

    /** Most real taps of any phase in all dims together (the size of the kernel's tap table). */
    public static int maxTaps(Dim[] dims) {
        // At most the kernel's taps (one per tap step), so an int.
        int count = 1;
        for (Dim dim : dims) {
            count *= dim.maxTaps();
        }
        return count;
    }

    /**
     * (output position, tap) pairs the kernel multiplies over all phases, summed over dims' products:
     * the work done, in units of input-channel-times-output-channel products per batch element.
     */
    public static long visitedPairs(Dim[] dims) {
        long total = 1;
        for (Dim dim : dims) {
            long perDim = 0;
            for (int ph = 0; ph < dim.phases(); ph++) {
                Phase phase = dim.phase(ph);
                perDim += (long) phase.outputs() * phase.taps();
            }
            total *= perDim;
        }
        return total;
    }

}
