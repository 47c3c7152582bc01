package org.convcl.demo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The embedded label font: complete for what labels use, every glyph distinct, drawn where it is told. */
class BitmapFontTest {
    private static final String COVERED = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789()[],.:-_=+/ ?";

    @Test
    void coversLettersDigitsAndLabelSymbolsWithDistinctGlyphs() {
        Set<String> seen = new HashSet<>();
        for (char c : COVERED.toCharArray()) {
            assertTrue(BitmapFont.covers(c), "glyph for '" + c + "'");
            assertTrue(seen.add(Arrays.toString(BitmapFont.glyph(c))), "'" + c + "' looks like another glyph");
        }
        assertTrue(BitmapFont.covers('q'), "lower case is drawn as upper case");
        assertFalse(BitmapFont.covers('@'));
        assertArrayEquals(BitmapFont.glyph('?'), BitmapFont.glyph('@'), "a missing glyph is drawn as '?'");
    }

    @Test
    void everyLabelOfTheDemoIsCovered() {
        for (Knobs.Knob knob : Knobs.all()) {
            for (char c : (knob.title() + knob.detail()).toCharArray()) {
                assertTrue(BitmapFont.covers(c), "'" + c + "' of " + knob.title());
            }
        }
    }

    @Test
    void drawsTheGlyphAtItsPlaceAndScale() {
        BufferedImage image = new BufferedImage(20, 20, BufferedImage.TYPE_BYTE_GRAY);
        BitmapFont.draw(image.getRaster(), 3, 2, "T", 2, 200);
        // T: the top row full, then the middle column.
        for (int x = 0; x < 20; x++) {
            for (int y = 0; y < 20; y++) {
                boolean topBar = y >= 2 && y < 4 && x >= 3 && x < 13;
                boolean stem = y >= 4 && y < 16 && x >= 7 && x < 9;
                assertEquals(topBar || stem ? 200 : 0, image.getRaster().getSample(x, y, 0), "pixel " + x + "," + y);
            }
        }
        assertEquals(2 * (3 * BitmapFont.ADVANCE - 1), BitmapFont.width("ABC", 2));
        assertEquals(0, BitmapFont.width("", 2));
    }

    @Test
    void textPartlyOutsideTheRasterIsClipped() {
        BufferedImage image = new BufferedImage(4, 4, BufferedImage.TYPE_BYTE_GRAY);
        // W's rows 3 to 6 are 10101, 10101, 10101, 01010; from (-3, -3) only their columns 3 and 4 land inside.
        BitmapFont.draw(image.getRaster(), -3, -3, "W", 1, 255);
        int[][] expected = {{0, 255, 0, 0}, {0, 255, 0, 0}, {0, 255, 0, 0}, {255, 0, 0, 0}};
        for (int y = 0; y < 4; y++) {
            for (int x = 0; x < 4; x++) {
                assertEquals(expected[y][x], image.getRaster().getSample(x, y, 0), "pixel " + x + "," + y);
            }
        }
    }
}
