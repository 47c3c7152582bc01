package org.convcl.demo;

import java.awt.image.BufferedImage;
import java.awt.image.WritableRaster;

/**
 * The demo's built-in picture, drawn in code so that nothing needs shipping: 96 x 96 gray levels with
 * something for every knob to act on. A bright bar on the left edge and a dark one on the top edge show what
 * each padding mode puts beyond the border (wrapped to the other side by CIRCULAR, mirrored by REFLECT,
 * zeros otherwise); a fine checkerboard aliases under stride 2 and ghosts under kernel dilation; a disc and
 * lettering make shifts and crops easy to follow. Stateless and thread-safe.
 */
public final class DefaultImage {
    public static final int SIZE = 96;

    private DefaultImage() {
    }

    /** A new copy of the picture. */
    public static BufferedImage create() {
        BufferedImage image = new BufferedImage(SIZE, SIZE, BufferedImage.TYPE_BYTE_GRAY);
        WritableRaster raster = image.getRaster();
        for (int y = 0; y < SIZE; y++) {
            for (int x = 0; x < SIZE; x++) {
                raster.setSample(x, y, 0, background(x, y));
            }
        }
        BitmapFont.draw(raster, 48, 64, "CONV", 2, 255);
        BitmapFont.draw(raster, 60, 80, "CL", 2, 255);
        return image;
    }

    private static int background(int x, int y) {
        if (x < 6) {
            return 245; // bright bar on the left edge
        }
        if (y < 5) {
            return 0; // dark bar on the top edge
        }
        double dx = x - 62.5;
        double dy = y - 30.5;
        double radius = Math.sqrt(dx * dx + dy * dy);
        if (radius < 17) {
            return radius < 9 ? 40 : 230; // a ring around a dark centre
        }
        if (x >= 12 && x < 44 && y >= 54 && y < 90) {
            return ((x - 12) / 3 + (y - 54) / 3) % 2 == 0 ? 20 : 220; // checkerboard of 3-pixel squares
        }
        if (x >= 12 && x < 40 && y >= 12 && y < 44 && (x + y) % 8 < 2) {
            return 200; // diagonal stripes
        }
        return 50 + x; // a gentle gradient, darker on the left
    }
}
