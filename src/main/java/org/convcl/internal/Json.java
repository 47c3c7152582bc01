package org.convcl.internal;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * JSON text to and from plain Java values, for convcl's own files: the tuning database, the benchmark suite and
 * the bench report. It is no data-binding library: values are maps, lists, strings, numbers, booleans and null.
 *
 * <p>Reading follows RFC 8259 strictly: no comments, no trailing commas, no leading zeros, no {@code NaN}, no
 * unescaped control characters in strings, nothing after the value but white space (a leading byte order mark is
 * skipped). An object becomes a {@code LinkedHashMap<String, Object>} in member order, and a name repeated within
 * one object is refused rather than silently overwritten; an array becomes an {@code ArrayList}; a number without
 * fraction or exponent an {@link Integer}, a {@link Long} or a {@link BigInteger}, the smallest that holds it (so
 * {@code 1} reads as {@code Integer} 1), and any other number a {@link Double}; {@code true} and {@code false}
 * {@link Boolean}s; {@code null} null. Nesting deeper than {@value #MAX_DEPTH} is refused, so hostile text cannot
 * exhaust the stack. Malformed text throws {@link IllegalArgumentException} whose message starts with the line and
 * column and says what was expected.
 *
 * <p>Writing lays the value out for people: each object member on a line of its own, indented two spaces per
 * object level, as {@code "name" : value}; arrays on one line, {@code [ 1, 2 ]}; empty ones as {@code { }} and
 * {@code [ ]}. (It is the layout of Jackson's default pretty printer, which wrote these files before, so files of
 * either look the same.) Maps (their keys as strings), collections, strings, numbers, booleans and null are
 * written; JSON has no non-finite numbers, so a NaN or infinite {@code Double} or {@code Float} is written as the
 * string {@code "NaN"}, {@code "Infinity"} or {@code "-Infinity"}. Strings escape {@code "}, {@code \} and the
 * control characters, and nothing else.
 *
 * <p>Stateless and thread-safe.
 */
public final class Json {
    /** The deepest nesting of objects and arrays that {@link #parse} accepts. */
    public static final int MAX_DEPTH = 512;

    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private Json() {
    }

    /**
     * The value of the JSON text {@code text}.
     *
     * @throws IllegalArgumentException when {@code text} is not one well-formed JSON value
     */
    public static Object parse(String text) {
        return new Parser(text).document();
    }

    /**
     * The object that the JSON text {@code text} holds, its members in order.
     *
     * @throws IllegalArgumentException when {@code text} is not well-formed JSON or holds another value than an object
     */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> parseObject(String text) {
        Object value = parse(text);
        if (!(value instanceof Map<?, ?>)) {
            throw new IllegalArgumentException("expected a JSON object, found " + kind(value));
        }
        return (Map<String, Object>) value;
    }

    /**
     * {@code value} as indented JSON text, without a final line break.
     *
     * @throws IllegalArgumentException when {@code value} holds something else than maps, collections, strings,
     *     numbers, booleans and null
     */
    public static String write(Object value) {
        StringBuilder out = new StringBuilder();
        write(out, value, 0);
        return out.toString();
    }

    private static void write(StringBuilder out, Object value, int level) {
        if (value == null) {
            out.append("null");
        } else if (value instanceof CharSequence text) {
            quote(out, text);
        } else if (value instanceof Boolean) {
            out.append(value);
        } else if (value instanceof Double || value instanceof Float) {
            double number = ((Number) value).doubleValue();
            if (Double.isFinite(number)) {
                out.append(value);
            } else {
                quote(out, value.toString());
            }
        } else if (value instanceof Number) {
            out.append(value);
        } else if (value instanceof Map<?, ?> map) {
            if (map.isEmpty()) {
                out.append("{ }");
                return;
            }
            out.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> entry : map.entrySet()) {
                if (!first) {
                    out.append(',');
                }
                first = false;
                newLine(out, level + 1);
                quote(out, String.valueOf(entry.getKey()));
                out.append(" : ");
                write(out, entry.getValue(), level + 1);
            }
            newLine(out, level);
            out.append('}');
        } else if (value instanceof Collection<?> items) {
            if (items.isEmpty()) {
                out.append("[ ]");
                return;
            }
            out.append("[ ");
            boolean first = true;
            for (Object item : items) {
                if (!first) {
                    out.append(", ");
                }
                first = false;
                write(out, item, level);
            }
            out.append(" ]");
        } else {
            throw new IllegalArgumentException("JSON cannot hold a " + value.getClass().getName() + ": " + value);
        }
    }

    private static void newLine(StringBuilder out, int level) {
        out.append('\n');
        for (int i = 0; i < level; i++) {
            out.append("  ");
        }
    }

    private static void quote(StringBuilder out, CharSequence text) {
        out.append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 0xf]);
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    private static String kind(Object value) {
        if (value == null) {
            return "null";
        }
        if (value instanceof List<?>) {
            return "an array";
        }
        if (value instanceof String) {
            return "a string";
        }
        if (value instanceof Boolean) {
            return "a boolean";
        }
        return "a number";
    }

    /** A recursive descent over one text; each instance reads once. */
    private static final class Parser {
        private final String text;
        private int pos;

        Parser(String text) {
            if (text == null) {
                throw new IllegalArgumentException("no JSON text (null)");
            }
            this.text = text;
        }

        Object document() {
            if (!text.isEmpty() && text.charAt(0) == '\uFEFF') {
                pos = 1;
            }
            skipWhiteSpace();
            if (pos == text.length()) {
                throw error("expected a JSON value, found no text but white space");
            }
            Object value = value(0);
            skipWhiteSpace();
            if (pos < text.length()) {
                throw error("expected the end of the text after the JSON value, found " + found());
            }
            return value;
        }

        private Object value(int depth) {
            if (pos == text.length()) {
                throw error("expected a value, found the end of the text");
            }
            char c = text.charAt(pos);
            switch (c) {
                case '{':
                    return object(depth + 1);
                case '[':
                    return array(depth + 1);
                case '"':
                    return string();
                case 't':
                    literal("true");
                    return Boolean.TRUE;
                case 'f':
                    literal("false");
                    return Boolean.FALSE;
                case 'n':
                    literal("null");
                    return null;
                default:
                    if (c == '-' || (c >= '0' && c <= '9')) {
                        return number();
                    }
                    throw error("expected a value, found " + found());
            }
        }

        private Map<String, Object> object(int depth) {
            checkDepth(depth);
            pos++;
            Map<String, Object> members = new LinkedHashMap<>();
            skipWhiteSpace();
            if (at('}')) {
                pos++;
                return members;
            }
            while (true) {
                skipWhiteSpace();
                if (!at('"')) {
                    throw error("expected a member name in double quotes, found " + found());
                }
                int nameAt = pos;
                String name = string();
                if (members.containsKey(name)) {
                    pos = nameAt;
                    throw error("the member name " + quoted(name) + " appears twice in one object");
                }
                skipWhiteSpace();
                if (!at(':')) {
                    throw error("expected ':' after the member name " + quoted(name) + ", found " + found());
                }
                pos++;
                skipWhiteSpace();
                members.put(name, value(depth));
                skipWhiteSpace();
                if (at(',')) {
                    pos++;
                } else if (at('}')) {
                    pos++;
                    return members;
                } else {
                    throw error("expected ',' or '}' after an object member, found " + found());
                }
            }
        }

        private List<Object> array(int depth) {
            checkDepth(depth);
            pos++;
            List<Object> items = new ArrayList<>();
            skipWhiteSpace();
            if (at(']')) {
                pos++;
                return items;
            }
            while (true) {
                skipWhiteSpace();
                items.add(value(depth));
                skipWhiteSpace();
                if (at(',')) {
                    pos++;
                } else if (at(']')) {
                    pos++;
                    return items;
                } else {
                    throw error("expected ',' or ']' after an array element, found " + found());
                }
            }
        }

        private String string() {
            pos++;
            StringBuilder out = new StringBuilder();
            while (true) {
                if (pos == text.length()) {
                    throw error("expected the closing '\"' of a string, found the end of the text");
                }
                char c = text.charAt(pos);
                if (c == '"') {
                    pos++;
                    return out.toString();
                }
                if (c < 0x20) {
                    throw error("found the control character " + codePoint(c) + " in a string; it must be escaped");
                }
                if (c != '\\') {
                    out.append(c);
                    pos++;
                    continue;
                }
                if (pos + 1 == text.length()) {
                    throw error("expected an escape after '\\', found the end of the text");
                }
                char escape = text.charAt(pos + 1);
                switch (escape) {
                    case '"', '\\', '/' -> out.append(escape);
                    case 'b' -> out.append('\b');
                    case 'f' -> out.append('\f');
                    case 'n' -> out.append('\n');
                    case 'r' -> out.append('\r');
                    case 't' -> out.append('\t');
                    case 'u' -> {
                        int unit = 0;
                        for (int i = 0; i < 4; i++) {
                            int digit = pos + 2 + i < text.length() ? Character.digit(text.charAt(pos + 2 + i), 16) : -1;
                            if (digit < 0) {
                                pos += 2 + i;
                                throw error("expected four hexadecimal digits after \\u, found " + found());
                            }
                            unit = unit * 16 + digit;
                        }
                        out.append((char) unit);
                        pos += 4;
                    }
                    default -> {
                        pos++;
                        throw error("expected one of \" \\ / b f n r t u after '\\', found " + found());
                    }
                }
                pos += 2;
            }
        }

        private Object number() {
            int start = pos;
            if (at('-')) {
                pos++;
            }
            if (at('0')) {
                pos++;
                if (atDigit()) {
                    throw error("a number may not have a leading zero");
                }
            } else if (atDigit()) {
                skipDigits();
            } else {
                throw error("expected a digit in a number, found " + found());
            }
            boolean integral = true;
            if (at('.')) {
                integral = false;
                pos++;
                if (!atDigit()) {
                    throw error("expected a digit after the decimal point, found " + found());
                }
                skipDigits();
            }
            if (at('e') || at('E')) {
                integral = false;
                pos++;
                if (at('+') || at('-')) {
                    pos++;
                }
                if (!atDigit()) {
                    throw error("expected a digit in the exponent, found " + found());
                }
                skipDigits();
            }
            String token = text.substring(start, pos);
            if (!integral) {
                return Double.parseDouble(token);
            }
            BigInteger value = new BigInteger(token);
            if (value.bitLength() < Integer.SIZE) {
                return value.intValue();
            }
            if (value.bitLength() < Long.SIZE) {
                return value.longValue();
            }
            return value;
        }

        private void literal(String word) {
            if (!text.startsWith(word, pos)) {
                throw error("expected a value, found " + found());
            }
            pos += word.length();
        }

        private void checkDepth(int depth) {
            if (depth > MAX_DEPTH) {
                throw error("objects and arrays nest deeper than " + MAX_DEPTH + " levels");
            }
        }

        private boolean at(char c) {
            return pos < text.length() && text.charAt(pos) == c;
        }

        private boolean atDigit() {
            return pos < text.length() && text.charAt(pos) >= '0' && text.charAt(pos) <= '9';
        }

        private void skipDigits() {
            while (atDigit()) {
                pos++;
            }
        }

        private void skipWhiteSpace() {
            while (pos < text.length()) {
                char c = text.charAt(pos);
                if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                    return;
                }
                pos++;
            }
        }

        /** What stands at the current position, for messages. */
        private String found() {
            if (pos >= text.length()) {
                return "the end of the text";
            }
            char c = text.charAt(pos);
            return c < 0x20 || c == 0x7f || Character.isWhitespace(c) || Character.isSurrogate(c) ? codePoint(c)
                    : "'" + c + "'";
        }

        private static String codePoint(char c) {
            return String.format(Locale.ROOT, "U+%04X", (int) c);
        }

        private static String quoted(String name) {
            StringBuilder out = new StringBuilder();
            quote(out, name.length() > 60 ? name.substring(0, 60) + "..." : name);
            return out.toString();
        }

        /** An error at the current position: "line L, column C: message". */
        private IllegalArgumentException error(String message) {
            int line = 1;
            int lineStart = 0;
            for (int i = 0; i < Math.min(pos, text.length()); i++) {
                if (text.charAt(i) == '\n') {
                    line++;
                    lineStart = i + 1;
                }
            }
            return new IllegalArgumentException("line " + line + ", column " + (pos - lineStart + 1) + ": " + message);
        }
    }
}
