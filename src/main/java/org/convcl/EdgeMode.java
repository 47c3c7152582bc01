package org.convcl;

/** What a padded position outside the input reads. */
public enum EdgeMode {
    /** Zero (every explicit, SAME, VALID and CAUSAL padding). */
    ZERO,
    /** The input wrapped around periodically (CIRCULAR; numpy's {@code mode='wrap'}). */
    WRAP,
    /** The input mirrored without repeating the edge (REFLECT; numpy's {@code mode='reflect'}). */
    MIRROR;

    /**
     * The input coordinate that padded coordinate {@code q} (0 = first input element) reads, or -1 for a
     * zero. Only ZERO is used with input dilation, since jax refuses string padding with it.
     */
    public int sourceIndex(int q, int length, int inputDilation) {
        switch (this) {
            case ZERO: {
                int dilatedLength = length == 0 ? 0 : (length - 1) * inputDilation + 1;
                if (q < 0 || q >= dilatedLength || q % inputDilation != 0) {
                    return -1;
                }
                return q / inputDilation;
            }
            case WRAP:
                return length == 0 ? -1 : Math.floorMod(q, length);
            case MIRROR: {
                if (length == 0) {
                    return -1;
                }
                if (length == 1) {
                    return 0;
                }
                int period = 2 * (length - 1);
                int m = Math.floorMod(q, period);
                return m < length ? m : period - m;
            }
            default:
                throw new AssertionError(this);
        }
    }
}
