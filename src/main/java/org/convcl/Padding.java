package org.convcl;

import java.util.Arrays;
import java.util.Locale;

/**
 * How a convolution pads its input, as flax {@code nnx.Conv} accepts it: a named mode, one int for both
 * sides of every spatial dim, or explicit per-dim {@code (lo, hi)} pairs (negative values crop).
 *
 * <p>Instances are immutable and thread-safe.
 */
public sealed interface Padding permits Padding.Named, Padding.Uniform, Padding.Explicit {

    /** The string paddings of flax and jax. */
    enum Named implements Padding {
        /** Output length {@code ceil(L / stride)}; the smaller half of the padding goes low. */
        SAME,
        /** Like SAME but the larger half of the padding goes low. */
        SAME_LOWER,
        /** No padding. */
        VALID,
        /** Wrap-around padding of {@code ((ke-1)/2, ke/2)}, then VALID (flax ignores the stride here). */
        CIRCULAR,
        /** Mirror (edge excluded) padding of {@code ((ke-1)/2, ke/2)}, then VALID. */
        REFLECT,
        /** Rank 1 only: left padding {@code (k-1) * kernelDilation}, then VALID. */
        CAUSAL;

        @Override
        public boolean isNamed() {
            return true;
        }
    }

    /** The same amount on both sides of every spatial dim. */
    record Uniform(int amount) implements Padding {
        @Override
        public boolean isNamed() {
            return false;
        }

        @Override
        public String toString() {
            return Integer.toString(amount);
        }
    }

    /** Explicit per-dim padding; {@code lo[d]} before and {@code hi[d]} after spatial dim d. */
    record Explicit(int[] lo, int[] hi) implements Padding {
        public Explicit {
            if (lo == null || hi == null) {
                throw new IllegalArgumentException("padding: got a null " + (lo == null ? "lo" : "hi")
                        + " array; expected one amount per spatial dim");
            }
            if (lo.length != hi.length) {
                throw new IllegalArgumentException("padding: lo has " + lo.length + " entries but hi has "
                        + hi.length + "; they must be equal");
            }
            if (lo.length == 0) {
                throw new IllegalArgumentException("padding: an explicit padding needs at least one dim, got none");
            }
            lo = lo.clone();
            hi = hi.clone();
        }

        @Override
        public int[] lo() {
            return lo.clone();
        }

        @Override
        public int[] hi() {
            return hi.clone();
        }

        public int rank() {
            return lo.length;
        }

        @Override
        public boolean isNamed() {
            return false;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Explicit e && Arrays.equals(lo, e.lo) && Arrays.equals(hi, e.hi);
        }

        @Override
        public int hashCode() {
            return 31 * Arrays.hashCode(lo) + Arrays.hashCode(hi);
        }

        @Override
        public String toString() {
            StringBuilder text = new StringBuilder();
            for (int d = 0; d < lo.length; d++) {
                if (d > 0) {
                    text.append(',');
                }
                text.append(lo[d]).append(':').append(hi[d]);
            }
            return text.toString();
        }
    }

    Named SAME = Named.SAME;
    Named SAME_LOWER = Named.SAME_LOWER;
    Named VALID = Named.VALID;
    Named CIRCULAR = Named.CIRCULAR;
    Named REFLECT = Named.REFLECT;
    Named CAUSAL = Named.CAUSAL;

    /** One amount on both sides of every spatial dim (flax's {@code padding=p}). */
    static Padding of(int amount) {
        return new Uniform(amount);
    }

    /** Per-dim amounts, each on both sides (flax's {@code padding=[p0, p1, ...]}). */
    static Padding perDim(int... amounts) {
        if (amounts == null) {
            throw new IllegalArgumentException("amounts: got null; expected one padding amount per spatial dim");
        }
        return new Explicit(amounts, amounts);
    }

    /** Per-dim {@code (lo, hi)} pairs, e.g. {@code pairs(new int[]{1, 2}, new int[]{0, -1})}. */
    static Padding pairs(int[]... loHi) {
        if (loHi == null) {
            throw new IllegalArgumentException("loHi: got null; expected one (lo, hi) pair per spatial dim");
        }
        int[] lo = new int[loHi.length];
        int[] hi = new int[loHi.length];
        for (int d = 0; d < loHi.length; d++) {
            if (loHi[d] == null || loHi[d].length != 2) {
                throw new IllegalArgumentException("loHi: pair " + d + " is " + Arrays.toString(loHi[d])
                        + "; each pair must be (lo, hi)");
            }
            lo[d] = loHi[d][0];
            hi[d] = loHi[d][1];
        }
        return new Explicit(lo, hi);
    }

    /**
     * Parses the CLI form: a mode name in any letter case ({@code SAME}, {@code same_lower}, ...), one int
     * ({@code 2}), or comma-separated per-dim entries, each {@code p} or {@code lo:hi} ({@code 1:2,0:-1}).
     */
    static Padding parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("padding: got an empty value; expected SAME, SAME_LOWER, VALID, "
                    + "CIRCULAR, REFLECT, CAUSAL, an int, or comma-separated p or lo:hi entries");
        }
        String trimmed = text.trim();
        for (Named named : Named.values()) {
            if (named.name().equalsIgnoreCase(trimmed)) {
                return named;
            }
        }
        String[] entries = trimmed.split(",", -1);
        int[] lo = new int[entries.length];
        int[] hi = new int[entries.length];
        boolean anyPair = false;
        for (int d = 0; d < entries.length; d++) {
            String entry = entries[d].trim();
            String[] sides = entry.split(":", -1);
            if (sides.length > 2) {
                throw badEntry(text, entry);
            }
            anyPair |= sides.length == 2;
            lo[d] = parseInt(text, entry, sides[0]);
            hi[d] = sides.length == 2 ? parseInt(text, entry, sides[1]) : lo[d];
        }
        if (entries.length == 1 && !anyPair) {
            return new Uniform(lo[0]);
        }
        return new Explicit(lo, hi);
    }

    private static int parseInt(String text, String entry, String number) {
        try {
            return Integer.parseInt(number.trim());
        } catch (NumberFormatException e) {
            throw badEntry(text, entry);
        }
    }

    private static IllegalArgumentException badEntry(String text, String entry) {
        return new IllegalArgumentException("padding: cannot read '" + entry + "' in '" + text
                + "'; expected SAME, SAME_LOWER, VALID, CIRCULAR, REFLECT, CAUSAL (any letter case), an int, "
                + "or comma-separated entries each p or lo:hi");
    }

    /**
     * Whether this is a string padding in jax's sense (refused together with input dilation).
     *
     * <p>Deliberately abstract, not a default method: a default method would make initialising {@link Named}
     * initialise this interface first, whose constants ({@code SAME = Named.SAME}, ...) would then read the
     * enum's fields while they are still null, whenever code touches {@code Padding.Named} first.
     */
    boolean isNamed();
}
