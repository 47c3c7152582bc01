package org.convcl.demo;

import java.util.ArrayList;
import java.util.List;
import org.convcl.Tensor;

/**
 * One picture of the grid: a title, an optional detail line, and the values to show, {@code (height, width,
 * 1)} in [0, 1]. Its label lines end with the shape of the values. Immutable (the tensor is shared, not
 * copied).
 */
public record Panel(String title, String detail, Tensor values) {

    public Panel {
        if (values.rank() != 3 || values.dim(2) != 1) {
            throw new IllegalArgumentException("values: shape " + values + " is not (height, width, 1)");
        }
    }

    public int width() {
        return values.dim(1);
    }

    public int height() {
        return values.dim(0);
    }

    /** The label, top to bottom: the title, the detail when there is one, and the shape, e.g. (48,48,1). */
    public List<String> labelLines() {
        List<String> lines = new ArrayList<>();
        lines.add(title);
        if (!detail.isEmpty()) {
            lines.add(detail);
        }
        lines.add("(" + height() + "," + width() + ",1)");
        return lines;
    }
}
