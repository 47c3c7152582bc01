package org.convcl.internal;

import java.util.Optional;

/**
 * One entry of the {@link Settings} registry: a value read from a system property or, failing that, the
 * environment variable of the same meaning, so that a test (which cannot set variables) or an application takes
 * precedence over the shell. Blank text counts as unset. Nothing is cached: a changed property applies to the
 * next read. Thread-safe.
 *
 * @param name the registry's name for it (the constant's name in {@link Settings})
 * @param property the system property
 * @param environmentVariable the environment variable
 * @param defaultValue the value when unset, or null where the caller decides (a device's limit, every core)
 * @param defaultText the default in words, for the docs table
 * @param description what it does, one line, for the docs table
 * @param rule how its text is parsed and checked
 * @param <T> the type of its value
 */
public record Setting<T>(String name, String property, String environmentVariable, T defaultValue,
        String defaultText, String description, SettingRule<T> rule) {

    /** The value in force, property first; empty when unset. A value the rule refuses is an error naming all. */
    public Optional<T> value() {
        return resolve(System.getProperty(property), System.getenv(environmentVariable));
    }

    /** {@link #value()}, else the default; only for settings with a fixed default. */
    public T get() {
        if (defaultValue == null) {
            throw new IllegalStateException(name + " has no fixed default (" + defaultText + "); read value()");
        }
        return value().orElse(defaultValue);
    }

    /** The trimmed text in force, property first, without the rule; empty when unset. */
    public Optional<String> text() {
        return chosen(System.getProperty(property), System.getenv(environmentVariable)).map(Raw::text);
    }

    /** Where the value in force comes from, for messages: {@code system property convcl.device}. */
    public String source() {
        String fromProperty = System.getProperty(property);
        return fromProperty != null && !fromProperty.isBlank() ? "system property " + property
                : "environment variable " + environmentVariable;
    }

    /**
     * The value that the raw {@code propertyValue} and {@code environmentValue} (either null when absent) give:
     * the property's when it is not blank, else the variable's, else empty. The seam that tests use, since they
     * cannot set environment variables.
     */
    public Optional<T> resolve(String propertyValue, String environmentValue) {
        Optional<Raw> raw = chosen(propertyValue, environmentValue);
        if (raw.isEmpty()) {
            return Optional.empty();
        }
        String text = raw.get().text();
        return Optional.of(rule.parse(text).orElseThrow(() -> new IllegalArgumentException(raw.get().source()
                + ": '" + text + "' is not allowed; expected " + rule.description())));
    }

    private Optional<Raw> chosen(String propertyValue, String environmentValue) {
        if (propertyValue != null && !propertyValue.isBlank()) {
            return Optional.of(new Raw(propertyValue.trim(), "system property " + property));
        }
        if (environmentValue != null && !environmentValue.isBlank()) {
            return Optional.of(new Raw(environmentValue.trim(), "environment variable " + environmentVariable));
        }
        return Optional.empty();
    }

    private record Raw(String text, String source) {
    }
}
