package org.convcl.cli;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;

/**
 * "Did you mean" for a mistyped command or option: the candidates closest to what was typed, by edit distance
 * counting a swap of two neighbouring letters as one edit. Picocli has suggestions of its own, but they compare
 * letter pairs, which a swap destroys: for {@code cnov} it offers nothing (no pair in common with {@code conv}),
 * and for {@code bneh} it offers {@code tune} rather than {@code bench}.
 */
final class Suggestions {
    private Suggestions() {
    }

    /**
     * The candidates nearest to {@code typed} (ignoring letter case), in their given order: those at the smallest
     * distance within reach (one edit for words of up to three letters, two beyond), so that a word unlike every
     * candidate gets no suggestion; then, unless one differs only in letter case, those that start with what was
     * typed, when that is at least three letters ({@code conv-t}: conv-transpose as well as conv).
     */
    static List<String> closest(String typed, Collection<String> candidates) {
        String word = typed.toLowerCase(Locale.ROOT);
        int reach = word.length() <= 3 ? 1 : 2;
        int best = Integer.MAX_VALUE;
        List<String> nearest = new ArrayList<>();
        for (String candidate : candidates) {
            int distance = distance(word, candidate.toLowerCase(Locale.ROOT));
            if (distance > reach || distance > best) {
                continue;
            }
            if (distance < best) {
                best = distance;
                nearest.clear();
            }
            nearest.add(candidate);
        }
        // A word that differs only in letter case is the one meant; otherwise a prefix may be too.
        if (best > 0 && word.replaceFirst("^-+", "").length() >= 3) {
            for (String candidate : candidates) {
                if (candidate.toLowerCase(Locale.ROOT).startsWith(word) && !nearest.contains(candidate)) {
                    nearest.add(candidate);
                }
            }
        }
        return nearest;
    }

    /**
     * Edits (insert, delete, replace, or swap two neighbouring characters) from {@code a} to {@code b}: the
     * optimal-string-alignment distance, which is what a typing slip costs.
     */
    static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }
}
