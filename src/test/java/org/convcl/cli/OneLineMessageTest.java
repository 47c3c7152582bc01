package org.convcl.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import org.junit.jupiter.api.Test;

/** A failure's reason is printed on one line, free of control characters, whatever the message held. */
class OneLineMessageTest {

    @Test
    void lineBreaksJoinAndControlCharactersBecomeSpaces() {
        String line = Main.oneLine("first\r\nsecond\u0085third\u2028fourth\u001b[31mred\u0000end\t.");
        assertEquals("first; second; third; fourth [31mred end .", line);
        assertFalse(line.chars().anyMatch(Character::isISOControl), line);
    }

    @Test
    void emptyMessagesStillSaySomething() {
        assertEquals("failed (no reason given)", Main.oneLine(null));
        assertEquals("failed (no reason given)", Main.oneLine("  \n "));
    }
}
