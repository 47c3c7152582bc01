package org.convcl.internal;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * How a setting's text becomes its value: {@link #parse} gives the value, or empty when the text breaks the rule,
 * and {@link #description} says the rule in words for the error and the docs table ({@code an integer from 1 to
 * 1024}). The text reaching a rule is trimmed and never blank (blank means unset).
 */
public interface SettingRule<T> {
    /** The value {@code text} stands for, or empty when the rule refuses it. */
    Optional<T> parse(String text);

    /** The rule in words, completing "expected ...". */
    String description();

    /** An {@code int} from {@code min} to {@code max}, both included. */
    static SettingRule<Integer> intRange(int min, int max) {
        String words = max == Integer.MAX_VALUE ? "an integer >= " + min : "an integer from " + min + " to " + max;
        return rule(words, text -> {
            try {
                int value = Integer.parseInt(text);
                return value >= min && value <= max ? Optional.of(value) : Optional.empty();
            } catch (NumberFormatException e) {
                return Optional.empty();
            }
        });
    }

    /** A {@code long} from {@code min} to {@code max}, both included. */
    static SettingRule<Long> longRange(long min, long max) {
        String words = max == Long.MAX_VALUE ? "an integer >= " + min : "an integer from " + min + " to " + max;
        return rule(words, text -> {
            try {
                long value = Long.parseLong(text);
                return value >= min && value <= max ? Optional.of(value) : Optional.empty();
            } catch (NumberFormatException e) {
                return Optional.empty();
            }
        });
    }

    /** {@code true} or {@code false}, in any case. */
    static SettingRule<Boolean> bool() {
        return rule("true or false", text -> text.equalsIgnoreCase("true") ? Optional.of(true)
                : text.equalsIgnoreCase("false") ? Optional.of(false) : Optional.empty());
    }

    /** {@code 1} (on) or {@code 0} (off), the shell's way of writing a switch. */
    static SettingRule<Boolean> flag() {
        return rule("1 or 0", text -> text.equals("1") ? Optional.of(true)
                : text.equals("0") ? Optional.of(false) : Optional.empty());
    }

    /** One of {@code values} (lower case), in any case; the value is the lower-case word. */
    static SettingRule<String> oneOf(String... values) {
        List<String> allowed = List.of(values);
        return rule("one of " + String.join(", ", allowed), text -> {
            String word = text.toLowerCase(Locale.ROOT);
            return allowed.contains(word) ? Optional.of(word) : Optional.empty();
        });
    }

    /** Any text; {@code meaning} says what it is read as, for the docs. */
    static SettingRule<String> text(String meaning) {
        return rule(meaning, Optional::of);
    }

    /** A path the file system accepts as a name (it need not exist). */
    static SettingRule<Path> path() {
        return rule("a file system path", SettingRule::toPath);
    }

    /** The path of a directory that exists. */
    static SettingRule<Path> existingDirectory() {
        return rule("the path of an existing directory",
                text -> toPath(text).filter(Files::isDirectory));
    }

    private static Optional<Path> toPath(String text) {
        try {
            return Optional.of(Path.of(text));
        } catch (InvalidPathException e) {
            return Optional.empty();
        }
    }

    private static <T> SettingRule<T> rule(String description, java.util.function.Function<String, Optional<T>> parse) {
        return new SettingRule<>() {
            @Override
            public Optional<T> parse(String text) {
                return parse.apply(text);
            }

            @Override
            public String description() {
                return description;
            }
        };
    }
}
