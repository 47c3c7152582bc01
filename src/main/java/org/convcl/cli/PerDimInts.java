package org.convcl.cli;

/** Parses the CLI form of strides and dilations: one int, or comma-separated ints, one per spatial dim. */
final class PerDimInts {
    private PerDimInts() {
    }

    /**
     * The ints of {@code text}. Only the syntax is checked here; their range (>= 1) and count (1 or n) are
     * the library's rules and refused there, with the same messages as for Java callers.
     */
    static int[] parse(String option, String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException(option + ": got an empty value; expected one int or n "
                    + "comma-separated ints, one per spatial dim");
        }
        String[] entries = text.split(",", -1);
        int[] values = new int[entries.length];
        for (int i = 0; i < entries.length; i++) {
            String entry = entries[i].trim();
            try {
                values[i] = Integer.parseInt(entry);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(option + ": cannot read '" + entry + "' in '" + text
                        + "'; expected one int or n comma-separated ints, one per spatial dim");
            }
        }
        return values;
    }
}
