package org.convcl.examples;

import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;
import org.convcl.Tensor;

/**
 * How close convcl's logits {@code (N, classes)} are to a reference's: {@code max|got - ref| / max|ref|} over the
 * whole batch, and per image whether the five highest classes are the same set (their order within the five
 * is not compared: near-ties among them may swap under float32 rounding without changing the prediction set).
 */
public record LogitsComparison(double maxRelErr, int imagesAgreeing, int images) {
    private static final int TOP = 5;

    public static LogitsComparison of(Tensor got, Tensor reference) {
        if (!Arrays.equals(got.shape(), reference.shape()) || got.rank() != 2) {
            throw new IllegalArgumentException("logits: shape " + Arrays.toString(got.shape()) + " against the "
                    + "reference's " + Arrays.toString(reference.shape()) + "; both must be the same (N, classes)");
        }
        float[] g = got.data();
        float[] r = reference.data();
        double maxDiff = 0;
        double maxRef = 0;
        for (int i = 0; i < g.length; i++) {
            double diff = Math.abs((double) g[i] - r[i]);
            // NaN must not pass: Math.max keeps it, and it makes the error NaN, which fails every target.
            maxDiff = Double.isNaN(diff) ? Double.NaN : Math.max(maxDiff, diff);
            maxRef = Math.max(maxRef, Math.abs(r[i]));
        }
        int n = got.dim(0);
        int classes = got.dim(1);
        int agreeing = 0;
        for (int b = 0; b < n; b++) {
            if (top(g, b, classes).equals(top(r, b, classes))) {
                agreeing++;
            }
        }
        return new LogitsComparison(maxRef == 0 ? maxDiff : maxDiff / maxRef, agreeing, n);
    }

    /** Whether every image's top five are the reference's. */
    public boolean top5Agree() {
        return imagesAgreeing == images;
    }

    /** The classes of the {@code min(5, classes)} highest logits of image {@code b}. */
    static Set<Integer> top(float[] logits, int b, int classes) {
        Integer[] order = new Integer[classes];
        for (int c = 0; c < classes; c++) {
            order[c] = c;
        }
        Arrays.sort(order, (x, y) -> Float.compare(logits[b * classes + y], logits[b * classes + x]));
        return new TreeSet<>(Arrays.asList(order).subList(0, Math.min(TOP, classes)));
    }
}
