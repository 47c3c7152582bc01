package org.convcl.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * No library source reads a convcl setting except through {@link Settings}: a property or variable name written
 * as a whole string, or the JDK's shortcuts that parse a property by rules of their own, anywhere else would be a
 * second parser (and a setting missing from docs/settings.md).
 */
class SettingsOnlyThroughRegistryTest {
    private static final Path SOURCES = Path.of("src", "main", "java");
    private static final Path REGISTRY = Path.of("org", "convcl", "internal", "Settings.java");
    private static final Pattern SECOND_READER = Pattern.compile(
            "\"convcl\\.[A-Za-z0-9_.]+\"|\"CONVCL_[A-Z0-9_]+\"|Boolean\\.getBoolean\\(|Integer\\.getInteger\\("
                    + "|Long\\.getLong\\(|System\\.(getProperty|getenv)\\(\\s*\"(convcl|CONVCL)");

    @Test
    void settingsAreNamedOnlyInTheRegistry() throws IOException {
        List<String> found = new ArrayList<>();
        try (Stream<Path> files = Files.walk(SOURCES)) {
            files.filter(file -> file.toString().endsWith(".java") && !SOURCES.relativize(file).equals(REGISTRY))
                    .forEach(file -> scan(file, found));
        }
        assertEquals(List.of(), found, "read these through org.convcl.internal.Settings");
    }

    private static void scan(Path file, List<String> found) {
        try {
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            for (int i = 0; i < lines.size(); i++) {
                if (SECOND_READER.matcher(lines.get(i)).find()) {
                    found.add(file + ":" + (i + 1) + ": " + lines.get(i).trim());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
