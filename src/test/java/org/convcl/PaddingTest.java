package org.convcl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URL;
import java.net.URLClassLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The CLI's padding text, and the padding constants' initialisation. */
class PaddingTest {

    @ParameterizedTest
    @ValueSource(strings = {"SAME", "same", "Same_Lower", "valid", "CIRCULAR", "reflect", "Causal", " VALID "})
    void namesInAnyLetterCase(String text) {
        Padding parsed = Padding.parse(text);
        assertTrue(parsed.isNamed());
        assertTrue(((Padding.Named) parsed).name().equalsIgnoreCase(text.trim()), parsed.toString());
    }

    @Test
    void oneIntIsUniform() {
        assertEquals(Padding.of(2), Padding.parse("2"));
        assertEquals(Padding.of(-1), Padding.parse("-1"));
        assertEquals(Padding.of(0), Padding.parse("0"));
    }

    @Test
    void entriesArePerDimAmountsOrPairs() {
        Padding.Explicit mixed = (Padding.Explicit) Padding.parse("-2:1, 3 ,0:-3");
        assertArrayEquals(new int[] {-2, 3, 0}, mixed.lo());
        assertArrayEquals(new int[] {1, 3, -3}, mixed.hi());
        assertEquals(Padding.perDim(1, 2), Padding.parse("1,2"));
        assertEquals(Padding.pairs(new int[] {1, 2}), Padding.parse("1:2"));
        assertEquals("-2:1,0:-3", Padding.parse("-2:1,0:-3").toString(), "toString is the CLI form");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "SAMEISH", "1:", ":1", "1:2:3", "1,,2", "1.5", "x:1", "2147483648"})
    void unreadableTextNamesPaddingAndTheText(String text) {
        IllegalArgumentException refusal = assertThrows(IllegalArgumentException.class, () -> Padding.parse(text));
        assertTrue(refusal.getMessage().startsWith("padding: "), refusal.getMessage());
        assertTrue(text.isBlank() || refusal.getMessage().contains(text.trim()), refusal.getMessage());
    }

    /**
     * Regression: touching {@code Padding.Named} before {@code Padding} used to leave {@code Padding.SAME}
     * (and every alias) null for the life of the JVM, so that {@code ConvSpec.defaults()} failed. A fresh
     * class loader makes the first touch happen here, whatever other tests did before.
     */
    @Test
    void constantsAreSetWhicheverTypeIsTouchedFirst() throws Exception {
        URL classes = Padding.class.getProtectionDomain().getCodeSource().getLocation();
        try (URLClassLoader fresh = new URLClassLoader(new URL[] {classes}, ClassLoader.getPlatformClassLoader())) {
            Class<?> named = Class.forName("org.convcl.Padding$Named", true, fresh);
            assertNotNull(named.getEnumConstants()[0]);
            Class<?> padding = Class.forName("org.convcl.Padding", true, fresh);
            for (String constant : new String[] {"SAME", "SAME_LOWER", "VALID", "CIRCULAR", "REFLECT", "CAUSAL"}) {
                assertNotNull(padding.getField(constant).get(null), "Padding." + constant);
            }
            Class<?> spec = Class.forName("org.convcl.ConvSpec", true, fresh);
            Object defaults = spec.getMethod("defaults").invoke(null);
            assertNotNull(spec.getMethod("padding").invoke(defaults));
        }
    }
}
