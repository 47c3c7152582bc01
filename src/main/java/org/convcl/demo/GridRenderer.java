package org.convcl.demo;

import java.awt.image.BufferedImage;
import java.awt.image.WritableRaster;
import java.util.List;

/**
 * Draws panels into one grayscale picture laid out by {@link GridLayout}: white background, labels in black
 * in the {@link BitmapFont}, each value as one pixel of gray level {@link GrayImages#level} (0 black, 1
 * white, the same scale for every panel, so zeros of padding look black everywhere), and a gray frame just
 * outside each panel to show its extent. Writes raster samples directly: no fonts, no color conversion,
 * nothing that needs a display. Stateless and thread-safe.
 */
public final class GridRenderer {
    private static final int BACKGROUND = 255;
    private static final int INK = 0;
    private static final int FRAME = 170;

    private GridRenderer() {
    }

    public static BufferedImage render(List<Panel> panels) {
        GridLayout layout = GridLayout.of(panels);
        BufferedImage picture = new BufferedImage(layout.width(), layout.height(), BufferedImage.TYPE_BYTE_GRAY);
        WritableRaster raster = picture.getRaster();
        for (int y = 0; y < layout.height(); y++) {
            for (int x = 0; x < layout.width(); x++) {
                raster.setSample(x, y, 0, BACKGROUND);
            }
        }
        for (int i = 0; i < panels.size(); i++) {
            Panel panel = panels.get(i);
            List<String> lines = panel.labelLines();
            for (int line = 0; line < lines.size(); line++) {
                BitmapFont.draw(raster, layout.panelX(i), layout.labelY(i, line), lines.get(line),
                        GridLayout.LABEL_SCALE, INK);
            }
            drawFrame(raster, layout.panelX(i) - 1, layout.panelY(i) - 1, panel.width() + 2, panel.height() + 2);
            float[] values = panel.values().data();
            for (int y = 0; y < panel.height(); y++) {
                for (int x = 0; x < panel.width(); x++) {
                    raster.setSample(layout.panelX(i) + x, layout.panelY(i) + y, 0,
                            GrayImages.level(values[y * panel.width() + x]));
                }
            }
        }
        return picture;
    }

    private static void drawFrame(WritableRaster raster, int x, int y, int width, int height) {
        for (int dx = 0; dx < width; dx++) {
            raster.setSample(x + dx, y, 0, FRAME);
            raster.setSample(x + dx, y + height - 1, 0, FRAME);
        }
        for (int dy = 0; dy < height; dy++) {
            raster.setSample(x, y + dy, 0, FRAME);
            raster.setSample(x + width - 1, y + dy, 0, FRAME);
        }
    }
}
