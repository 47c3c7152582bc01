package org.convcl.demo;

import java.awt.image.WritableRaster;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A 5x7 pixel font for labels, embedded in code so that pictures render the same on any machine: a fresh
 * headless CI image may have no system fonts at all, and AWT text rendering would then fail or vary.
 * Covers A-Z (lower case is drawn as upper case), 0-9 and {@code ( ) [ ] , . : - _ = + /} and space; any
 * other character is drawn as {@code ?}. Stateless and thread-safe.
 */
public final class BitmapFont {
    /** Glyph cell: 5 pixels wide, 7 high, plus one column and one row of spacing. */
    public static final int GLYPH_WIDTH = 5;
    public static final int GLYPH_HEIGHT = 7;
    public static final int ADVANCE = GLYPH_WIDTH + 1;

    /**
     * Each entry: the character, then 7 rows as two hex digits each, top to bottom; bit 4 of a row is its
     * leftmost pixel. The shapes are those of the classic HD44780 character LCD.
     */
    private static final String[] TABLE = {
        "A0E1111111F1111", "B1E11111E11111E", "C0E11101010110E", "D1C12111111121C", "E1F10101E10101F",
        "F1F10101E101010", "G0E11101711110F", "H1111111F111111", "I0E04040404040E", "J0702020202120C",
        "K11121418141211", "L1010101010101F", "M111B1515111111", "N11111915131111", "O0E11111111110E",
        "P1E11111E101010", "Q0E11111115120D", "R1E11111E141211", "S0F10100E01011E", "T1F040404040404",
        "U1111111111110E", "V11111111110A04", "W1111111515150A", "X11110A040A1111", "Y1111110A040404",
        "Z1F01020408101F", "00E11131519110E", "1040C040404040E", "20E11010204081F", "31F02040201110E",
        "402060A121F0202", "51F101E0101110E", "60608101E11110E", "71F010204080808", "80E11110E11110E",
        "90E11110F01020C", " 00000000000000", "(02040808080402", ")08040202020408", ",000000000C0408",
        "-0000001F000000", ".00000000000C0C", ":000C0C000C0C00", "_0000000000001F", "=00001F001F0000",
        "+0004041F040400", "/00010204081000", "[0E08080808080E", "]0E02020202020E", "?0E110102040004",
    };
    private static final Map<Character, byte[]> GLYPHS = parse();

    private BitmapFont() {
    }

    /** Width in pixels of {@code text} drawn at {@code scale} (no trailing spacing). */
    public static int width(String text, int scale) {
        return text.isEmpty() ? 0 : (text.length() * ADVANCE - 1) * scale;
    }

    /** Height in pixels of one line at {@code scale}. */
    public static int height(int scale) {
        return GLYPH_HEIGHT * scale;
    }

    /**
     * Draws {@code text} with its top-left corner at ({@code x}, {@code y}), each font pixel a
     * {@code scale x scale} square of sample value {@code level} in band 0 of {@code raster}; pixels that
     * fall outside the raster are skipped.
     */
    public static void draw(WritableRaster raster, int x, int y, String text, int scale, int level) {
        String upper = text.toUpperCase(Locale.ROOT);
        for (int i = 0; i < upper.length(); i++) {
            byte[] rows = glyph(upper.charAt(i));
            int left = x + i * ADVANCE * scale;
            for (int row = 0; row < GLYPH_HEIGHT; row++) {
                for (int column = 0; column < GLYPH_WIDTH; column++) {
                    if ((rows[row] >> (GLYPH_WIDTH - 1 - column) & 1) != 0) {
                        fill(raster, left + column * scale, y + row * scale, scale, level);
                    }
                }
            }
        }
    }

    /** The 7 rows of a character's glyph, or those of {@code ?} for a character the font lacks. */
    static byte[] glyph(char c) {
        byte[] rows = GLYPHS.get(c);
        return rows != null ? rows : GLYPHS.get('?');
    }

    /** Whether the font has a glyph of its own for {@code c} (after upper-casing). */
    public static boolean covers(char c) {
        return GLYPHS.containsKey(Character.toUpperCase(c));
    }

    private static void fill(WritableRaster raster, int x, int y, int size, int level) {
        for (int dy = 0; dy < size; dy++) {
            for (int dx = 0; dx < size; dx++) {
                int px = x + dx;
                int py = y + dy;
                if (px >= 0 && py >= 0 && px < raster.getWidth() && py < raster.getHeight()) {
                    raster.setSample(px, py, 0, level);
                }
            }
        }
    }

    private static Map<Character, byte[]> parse() {
        Map<Character, byte[]> glyphs = new HashMap<>();
        for (String entry : TABLE) {
            if (entry.length() != 1 + 2 * GLYPH_HEIGHT) {
                throw new IllegalStateException("font entry '" + entry + "' must be a character and 7 hex bytes");
            }
            byte[] rows = new byte[GLYPH_HEIGHT];
            for (int row = 0; row < GLYPH_HEIGHT; row++) {
                rows[row] = (byte) Integer.parseInt(entry.substring(1 + 2 * row, 3 + 2 * row), 16);
            }
            glyphs.put(entry.charAt(0), rows);
        }
        return glyphs;
    }
}
