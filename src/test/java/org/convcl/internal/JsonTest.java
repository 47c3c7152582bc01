package org.convcl.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link Json}, the library's own JSON reader and writer, against the rules of RFC 8259 and against jackson-jr (the
 * parser convcl used before, kept for the tests only) as an independent reference: the same values from the same
 * text, byte for byte the same pretty text from the same values, and the same verdict on thousands of mutated
 * texts. Seeds are fixed so that a failure reproduces.
 */
class JsonTest {
    private static final JSON JACKSON = JSON.std.with(JSON.Feature.FAIL_ON_DUPLICATE_MAP_KEYS);
    private static final JSON JACKSON_PRETTY = JSON.std.with(JSON.Feature.PRETTY_PRINT_OUTPUT);

    @Test
    void readsEveryKindOfValueAsThePlainJavaType() {
        Map<String, Object> json = Json.parseObject("""
                {"int": 1, "negative": -2147483648, "long": 2147483648, "big": 9223372036854775808,
                 "minusZero": -0, "fraction": 0.5, "exponent": 1e2, "both": -1.25E-3, "zeroDouble": -0.0,
                 "yes": true, "no": false, "nothing": null, "text": "a\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\uD83D\\uDE00",
                 "raw": "é😀\u007f", "list": [1, [2, []], {}], "object": {"b": 1, "a": 2}}
                """);
        assertEquals(Integer.valueOf(1), json.get("int"));
        assertEquals(Integer.valueOf(Integer.MIN_VALUE), json.get("negative"));
        assertEquals(Long.valueOf(2147483648L), json.get("long"));
        assertEquals(new BigInteger("9223372036854775808"), json.get("big"));
        assertEquals(Integer.valueOf(0), json.get("minusZero"));
        assertEquals(Double.valueOf(0.5), json.get("fraction"));
        assertEquals(Double.valueOf(100), json.get("exponent"));
        assertEquals(Double.valueOf(-1.25e-3), json.get("both"));
        assertEquals(Double.valueOf(-0.0), json.get("zeroDouble"));
        assertEquals(Boolean.TRUE, json.get("yes"));
        assertEquals(Boolean.FALSE, json.get("no"));
        assertTrue(json.containsKey("nothing"));
        assertNull(json.get("nothing"));
        assertEquals("a\"b\\c/d\b\f\n\r\té😀", json.get("text"));
        assertEquals("é😀\u007f", json.get("raw"));
        assertEquals(List.of(1, List.of(2, List.of()), Map.of()), json.get("list"));
        assertEquals(List.of("b", "a"), new ArrayList<>(((Map<?, ?>) json.get("object")).keySet()),
                "members keep their order");
        assertEquals(List.of("int", "negative", "long", "big", "minusZero", "fraction", "exponent", "both",
                "zeroDouble", "yes", "no", "nothing", "text", "raw", "list", "object"), new ArrayList<>(json.keySet()));
        assertEquals(Long.valueOf(Long.MIN_VALUE), Json.parse("-9223372036854775808"));
        assertEquals(new BigInteger("-9223372036854775809"), Json.parse("-9223372036854775809"));
        assertEquals("\uD800", Json.parse("\"\\ud800\""), "a lone surrogate escape reads as that char");
        assertNull(Json.parse(" null "));
        assertEquals(List.of(), Json.parse("\uFEFF[]"), "a leading byte order mark is skipped");
        assertEquals(Integer.valueOf(7), Json.parse("\t\r\n 7 \n"));
    }

    @Test
    void refusesMalformedTextNamingTheLineColumnAndWhatWasExpected() {
        Object[][] cases = {
            {"", "line 1, column 1: expected a JSON value, found no text but white space"},
            {" \n ", "line 2, column 2: expected a JSON value"},
            {"{", "line 1, column 2: expected a member name in double quotes, found the end of the text"},
            {"[1,]", "line 1, column 4: expected a value, found ']'"},
            {"{\"a\": 1,}", "line 1, column 9: expected a member name in double quotes, found '}'"},
            {"{a: 1}", "line 1, column 2: expected a member name in double quotes, found 'a'"},
            {"{\"a\" 1}", "line 1, column 6: expected ':' after the member name \"a\", found '1'"},
            {"{\"a\": 1 \"b\": 2}", "line 1, column 9: expected ',' or '}' after an object member, found '\"'"},
            {"[1 2]", "line 1, column 4: expected ',' or ']' after an array element, found '2'"},
            {"[1]]", "line 1, column 4: expected the end of the text after the JSON value, found ']'"},
            {"1 2", "line 1, column 3: expected the end of the text after the JSON value, found '2'"},
            {"01", "line 1, column 2: a number may not have a leading zero"},
            {"-01", "line 1, column 3: a number may not have a leading zero"},
            {"1.", "line 1, column 3: expected a digit after the decimal point, found the end of the text"},
            {"1.e5", "line 1, column 3: expected a digit after the decimal point, found 'e'"},
            {".5", "line 1, column 1: expected a value, found '.'"},
            {"+1", "line 1, column 1: expected a value, found '+'"},
            {"-", "line 1, column 2: expected a digit in a number, found the end of the text"},
            {"-x", "line 1, column 2: expected a digit in a number, found 'x'"},
            {"1e", "line 1, column 3: expected a digit in the exponent, found the end of the text"},
            {"1e+", "line 1, column 4: expected a digit in the exponent, found the end of the text"},
            {"NaN", "line 1, column 1: expected a value, found 'N'"},
            {"-Infinity", "line 1, column 2: expected a digit in a number, found 'I'"},
            {"tru", "line 1, column 1: expected a value, found 't'"},
            {"nul", "line 1, column 1: expected a value, found 'n'"},
            {"truex", "line 1, column 5: expected the end of the text after the JSON value, found 'x'"},
            {"'a'", "line 1, column 1: expected a value, found '''"},
            {"// comment\n1", "line 1, column 1: expected a value, found '/'"},
            {"\"abc", "line 1, column 5: expected the closing '\"' of a string, found the end of the text"},
            {"\"a\tb\"", "line 1, column 3: found the control character U+0009 in a string; it must be escaped"},
            {"\"a\nb\"", "line 1, column 3: found the control character U+000A in a string; it must be escaped"},
            {"\"\\x\"", "line 1, column 3: expected one of \" \\ / b f n r t u after '\\', found 'x'"},
            {"\"\\", "line 1, column 2: expected an escape after '\\', found the end of the text"},
            {"\"\\u12G4\"", "line 1, column 6: expected four hexadecimal digits after \\u, found 'G'"},
            {"\"\\u12", "line 1, column 6: expected four hexadecimal digits after \\u, found the end of the text"},
            {"{\"a\": 1,\n  \"a\": 2}", "line 2, column 3: the member name \"a\" appears twice in one object"},
            {"[\u0001]", "line 1, column 2: expected a value, found U+0001"},
            {"{\n  \"a\": [1,\n    x]}", "line 3, column 5: expected a value, found 'x'"},
        };
        for (Object[] c : cases) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.parse((String) c[0]),
                    "refused: " + c[0]);
            assertTrue(e.getMessage().startsWith((String) c[1]), c[0] + " gave: " + e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> Json.parse(null));
        assertEquals("expected a JSON object, found an array",
                assertThrows(IllegalArgumentException.class, () -> Json.parseObject("[]")).getMessage());
        assertEquals("expected a JSON object, found null",
                assertThrows(IllegalArgumentException.class, () -> Json.parseObject("null")).getMessage());
    }

    @Test
    void nestingIsBoundedSoThatHostileTextCannotExhaustTheStack() {
        String deepest = "[".repeat(Json.MAX_DEPTH) + "]".repeat(Json.MAX_DEPTH);
        assertInstanceOf(List.class, Json.parse(deepest));
        String tooDeep = "[".repeat(Json.MAX_DEPTH + 1) + "]".repeat(Json.MAX_DEPTH + 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.parse(tooDeep));
        assertTrue(e.getMessage().contains("nest deeper than " + Json.MAX_DEPTH), e.getMessage());
        String hostile = "{\"a\":".repeat(200_000);
        assertThrows(IllegalArgumentException.class, () -> Json.parse(hostile));
    }

    @Test
    void writesTheIndentedLayout() {
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("geometry", "in=[8, 8]x16");
        entry.put("batch", 4);
        entry.put("ms", 0.41);
        entry.put("default_ms", null);
        entry.put("shape", List.of(3, 3));
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("format", 1);
        json.put("entries", List.of(entry, Map.of()));
        json.put("none", List.of());
        json.put("text", "tab\there \"quoted\" \\ \u0001 / é");
        json.put("non-finite", Arrays.asList(Double.NaN, Double.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY));
        json.put("numbers", List.of(1L << 40, new BigInteger("123456789012345678901234567890"),
                new BigDecimal("1.50"), 1e20, 1.5f, true));
        assertEquals("""
                {
                  "format" : 1,
                  "entries" : [ {
                    "geometry" : "in=[8, 8]x16",
                    "batch" : 4,
                    "ms" : 0.41,
                    "default_ms" : null,
                    "shape" : [ 3, 3 ]
                  }, { } ],
                  "none" : [ ],
                  "text" : "tab\\there \\"quoted\\" \\\\ \\u0001 / é",
                  "non-finite" : [ "NaN", "Infinity", "-Infinity" ],
                  "numbers" : [ 1099511627776, 123456789012345678901234567890, 1.50, 1.0E20, 1.5, true ]
                }""", Json.write(json));
        assertEquals("null", Json.write(null));
        assertEquals("\"\"", Json.write(""));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Json.write(Map.of("a", new Object[0])));
        assertTrue(e.getMessage().startsWith("JSON cannot hold a [Ljava.lang.Object;"), e.getMessage());
    }

    @Test
    void randomValuesRoundTripAndMatchJacksonBothWays() throws IOException {
        SplittableRandom random = new SplittableRandom(20250301L);
        for (int i = 0; i < 2000; i++) {
            Object value = randomValue(random, 0);
            String ours = Json.write(value);
            // jackson-jr leaves out null members; the values here have none, so the texts can be compared whole.
            String theirs = JACKSON_PRETTY.asString(value).replace(System.lineSeparator(), "\n");
            assertEquals(theirs, ours, "the layout of jackson-jr's pretty printer");
            assertEquals(value, Json.parse(ours), "round trip of " + ours);
            assertEquals(value, JACKSON.anyFrom(ours), "jackson reads what Json wrote: " + ours);
            String compact = JSON.std.asString(value);
            assertEquals(value, Json.parse(compact), "Json reads what jackson wrote: " + compact);
        }
    }

    @Test
    void readsTheProjectsJsonFilesAsJacksonDoes() throws IOException {
        for (String resource : List.of("/golden/manifest.json", "/bench/shapes.json")) {
            String text;
            try (InputStream in = JsonTest.class.getResourceAsStream(resource)) {
                text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            Object ours = Json.parse(text);
            assertEquals(JACKSON.anyFrom(text), ours, resource);
            assertEquals(Json.write(JACKSON.anyFrom(text)), Json.write(ours), resource + ", member order included");
        }
    }

    /**
     * Thousands of mutated texts: Json and jackson (with duplicate names refused, and nothing allowed after the value,
     * as Json does) give the same verdict, and equal values where both accept. Json never throws anything but
     * IllegalArgumentException.
     */
    @Test
    void mutatedTextsGetJacksonsVerdict() {
        SplittableRandom random = new SplittableRandom(20250302L);
        int accepted = 0;
        int refused = 0;
        for (int i = 0; i < 6000; i++) {
            String text = mutate(random, Json.write(randomValue(random, 0)));
            Object reference;
            boolean jacksonAccepts;
            try {
                reference = jackson(text);
                jacksonAccepts = true;
            } catch (IOException | RuntimeException e) {
                reference = e;
                jacksonAccepts = false;
            }
            Object ours;
            try {
                ours = Json.parse(text);
            } catch (IllegalArgumentException e) {
                assertTrue(e.getMessage().matches("line \\d+, column \\d+: .*"), e.getMessage());
                if (jacksonAccepts) {
                    fail("Json refused what jackson accepts (" + e.getMessage() + "): " + text);
                }
                refused++;
                continue;
            } catch (RuntimeException | StackOverflowError e) {
                throw new AssertionError("not an IllegalArgumentException on: " + text, e);
            }
            if (!jacksonAccepts) {
                fail("Json accepted what jackson refuses (" + reference + "): " + text);
            }
            assertEquals(reference, ours, text);
            accepted++;
        }
        assertTrue(accepted > 600 && refused > 600, "the mutations test both sides: " + accepted + " accepted, "
                + refused + " refused");
    }

    /** jackson-jr's value of {@code text}, refusing what follows the value and blank text, as Json does. */
    private static Object jackson(String text) throws IOException {
        try (JsonParser parser = new JsonFactory().createParser(text)) {
            if (parser.nextToken() == null) {
                throw new IOException("no value");
            }
            Object value = JACKSON.anyFrom(parser);
            if (parser.nextToken() != null) {
                throw new IOException("content after the value");
            }
            return value;
        }
    }

    private static final String ALPHABET = "{}[],:\" \\/-+.0123456789eEtrufalsn\t\n\u0001xé";

    private static String mutate(SplittableRandom random, String text) {
        StringBuilder out = new StringBuilder(text);
        int edits = 1 + random.nextInt(3);
        for (int e = 0; e < edits && out.length() > 0; e++) {
            int at = random.nextInt(out.length());
            char c = ALPHABET.charAt(random.nextInt(ALPHABET.length()));
            switch (random.nextInt(4)) {
                case 0 -> out.setCharAt(at, c);
                case 1 -> out.insert(at, c);
                case 2 -> out.deleteCharAt(at);
                default -> out.setLength(at);
            }
        }
        return out.toString();
    }

    /** A value of the types Json reads back unchanged (no null members: jackson-jr would leave them out). */
    private static Object randomValue(SplittableRandom random, int depth) {
        int kind = random.nextInt(depth >= 4 ? 7 : 9);
        return switch (kind) {
            case 0 -> random.nextInt();
            case 1 -> random.nextBoolean() ? (Object) random.nextInt(-3, 4) : (Object) randomLong(random);
            case 2 -> new BigInteger(64 + random.nextInt(40), new java.util.Random(random.nextLong()))
                    .add(BigInteger.ONE.shiftLeft(63).add(BigInteger.ONE)).multiply(BigInteger.valueOf(random.nextBoolean() ? 1 : -1));
            case 3 -> randomDouble(random);
            case 4 -> randomString(random);
            case 5 -> random.nextBoolean();
            case 6 -> depth == 0 ? randomString(random) : null;
            case 7 -> {
                List<Object> list = new ArrayList<>();
                int size = random.nextInt(5);
                for (int i = 0; i < size; i++) {
                    list.add(randomValue(random, depth + 1));
                }
                yield list;
            }
            default -> {
                Map<String, Object> map = new LinkedHashMap<>();
                int size = random.nextInt(5);
                for (int i = 0; i < size; i++) {
                    Object member = randomValue(random, depth + 1);
                    map.put(randomString(random), member == null ? Boolean.FALSE : member);
                }
                yield map;
            }
        };
    }

    /** A long outside the int range, which Json and jackson read back as a Long. */
    private static long randomLong(SplittableRandom random) {
        long value = random.nextLong();
        return value == (int) value ? value + (1L << 40) : value;
    }

    private static double randomDouble(SplittableRandom random) {
        return switch (random.nextInt(4)) {
            case 0 -> random.nextDouble();
            case 1 -> (random.nextDouble() - 0.5) * Math.pow(10, random.nextInt(-40, 40));
            case 2 -> Double.longBitsToDouble(random.nextLong() & 0x7fefffffffffffffL) * (random.nextBoolean() ? 1 : -1);
            default -> random.nextInt(-100, 100) / 4.0;
        };
    }

    private static String randomString(SplittableRandom random) {
        StringBuilder out = new StringBuilder();
        int length = random.nextInt(8);
        for (int i = 0; i < length; i++) {
            out.append(switch (random.nextInt(6)) {
                case 0 -> (char) random.nextInt(0x20);
                case 1 -> "\"\\/".charAt(random.nextInt(3));
                case 2 -> (char) random.nextInt(0x80, 0xd800);
                case 3 -> "😀";
                default -> (char) random.nextInt(0x20, 0x7f);
            });
        }
        return out.toString();
    }
}
