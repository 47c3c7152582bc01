package org.convcl.demo;

import java.util.List;

/**
 * Where everything goes in the picture: panels in rows of {@link #COLUMNS} cells, each cell a label (lines
 * of the bitmap font) above its panel, drawn at one image pixel per value so that the picture shows exactly
 * what the convolution computed. Every cell is as wide as the widest panel or label line; a row is as tall
 * as the tallest label plus its own tallest panel; {@link #MARGIN} surrounds every cell's content.
 * Immutable and thread-safe.
 */
public final class GridLayout {
    public static final int COLUMNS = 4;
    public static final int MARGIN = 8;
    public static final int LABEL_SCALE = 2;
    /** Vertical distance between the tops of two label lines. */
    public static final int LINE_PITCH = BitmapFont.height(LABEL_SCALE) + 4;

    private final int count;
    private final int cellWidth;
    private final int labelHeight;
    /** Top edge of each row, and the picture's height as the last entry. */
    private final int[] rowTops;

    private GridLayout(int count, int cellWidth, int labelHeight, int[] rowTops) {
        this.count = count;
        this.cellWidth = cellWidth;
        this.labelHeight = labelHeight;
        this.rowTops = rowTops;
    }

    public static GridLayout of(List<Panel> panels) {
        if (panels.isEmpty()) {
            throw new IllegalArgumentException("panels: got none; a grid needs at least one");
        }
        int contentWidth = 0;
        int lines = 0;
        int rows = (panels.size() + COLUMNS - 1) / COLUMNS;
        int[] panelHeights = new int[rows];
        for (int i = 0; i < panels.size(); i++) {
            Panel panel = panels.get(i);
            contentWidth = Math.max(contentWidth, panel.width());
            panelHeights[i / COLUMNS] = Math.max(panelHeights[i / COLUMNS], panel.height());
            lines = Math.max(lines, panel.labelLines().size());
            for (String line : panel.labelLines()) {
                contentWidth = Math.max(contentWidth, BitmapFont.width(line, LABEL_SCALE));
            }
        }
        int labelHeight = lines * LINE_PITCH;
        int[] rowTops = new int[rows + 1];
        for (int row = 0; row < rows; row++) {
            rowTops[row + 1] = rowTops[row] + MARGIN + labelHeight + panelHeights[row] + MARGIN;
        }
        return new GridLayout(panels.size(), contentWidth + 2 * MARGIN, labelHeight, rowTops);
    }

    public int rows() {
        return rowTops.length - 1;
    }

    public int columns() {
        return Math.min(count, COLUMNS);
    }

    public int cellWidth() {
        return cellWidth;
    }

    /** Height of row {@code row}'s cells. */
    public int rowHeight(int row) {
        return rowTops[row + 1] - rowTops[row];
    }

    /** Width of the whole picture. */
    public int width() {
        return columns() * cellWidth;
    }

    /** Height of the whole picture. */
    public int height() {
        return rowTops[rowTops.length - 1];
    }

    /** Left edge of panel {@code index}'s first value column. */
    public int panelX(int index) {
        return index % COLUMNS * cellWidth + MARGIN;
    }

    /** Top edge of panel {@code index}'s first value row. */
    public int panelY(int index) {
        return rowTops[index / COLUMNS] + MARGIN + labelHeight;
    }

    /** Top edge of line {@code line} of panel {@code index}'s label. */
    public int labelY(int index, int line) {
        return rowTops[index / COLUMNS] + MARGIN + line * LINE_PITCH;
    }
}
