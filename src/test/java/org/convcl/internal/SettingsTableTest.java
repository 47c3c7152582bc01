package org.convcl.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** docs/settings.md's table and the {@link Settings} registry say the same, row for row. */
class SettingsTableTest {
    private static final Path TABLE = Path.of("docs", "settings.md");

    @Test
    void theDocsTableListsEveryRegistryEntryAsDeclared() throws IOException {
        List<List<String>> expected = Settings.all().stream().map(SettingsTableTest::row).toList();
        List<List<String>> documented = tableRows(Files.readAllLines(TABLE, StandardCharsets.UTF_8));
        assertEquals(expected.stream().map(Object::toString).collect(Collectors.joining("\n")),
                documented.stream().map(Object::toString).collect(Collectors.joining("\n")),
                TABLE + " differs from Settings; its rows must be, in order: setting, property, variable, default, "
                        + "rule, meaning");
    }

    @Test
    void everySettingConstantIsRegisteredUnderItsOwnName() throws IllegalAccessException {
        List<Setting<?>> declared = new ArrayList<>();
        for (Field field : Settings.class.getDeclaredFields()) {
            if (field.getType() == Setting.class && Modifier.isPublic(field.getModifiers())) {
                Setting<?> setting = (Setting<?>) field.get(null);
                assertEquals(field.getName(), setting.name(), "the name of Settings." + field.getName());
                declared.add(setting);
            }
        }
        assertEquals(declared, Settings.all(), "Settings.all() lists every constant, in declaration order");
    }

    @Test
    void namesFollowOnePatternAndNoneIsUsedTwice() {
        Set<String> seen = new HashSet<>();
        for (Setting<?> setting : Settings.all()) {
            assertTrue(setting.property().startsWith("convcl."), setting.property());
            String variable = "CONVCL_" + setting.property().substring("convcl.".length())
                    .replaceAll("([a-z])([A-Z])", "$1_$2").replace('.', '_').toUpperCase(Locale.ROOT);
            assertEquals(variable, setting.environmentVariable(), "the variable of " + setting.property());
            for (String name : List.of(setting.name(), setting.property(), setting.environmentVariable())) {
                assertTrue(seen.add(name), name + " is used twice");
            }
        }
    }

    @Test
    void aFixedDefaultIsWhatItsDocumentedTextParsesTo() {
        for (Setting<?> setting : Settings.all()) {
            if (setting.defaultValue() != null) {
                assertEquals(Optional.of(setting.defaultValue()), setting.rule().parse(setting.defaultText()),
                        setting.name() + "'s default, as documented");
            }
        }
    }

    private static List<String> row(Setting<?> setting) {
        return List.of(setting.name(), setting.property(), setting.environmentVariable(), setting.defaultText(),
                setting.rule().description(), setting.description());
    }

    /** The cells of the table's body rows, code quotes removed; the header and its rule line are skipped. */
    private static List<List<String>> tableRows(List<String> lines) {
        List<List<String>> rows = new ArrayList<>();
        boolean inTable = false;
        for (String line : lines) {
            String trimmed = line.trim();
            if (!trimmed.startsWith("|")) {
                inTable = false;
                continue;
            }
            List<String> cells = Stream.of(trimmed.substring(1, trimmed.length() - 1).split("\\|", -1))
                    .map(String::trim).toList();
            if (cells.get(0).equals("Setting")) {
                inTable = true;
            } else if (inTable && !cells.get(0).startsWith("---")) {
                rows.add(cells.stream().map(SettingsTableTest::unquote).toList());
            }
        }
        return rows;
    }

    private static String unquote(String cell) {
        return cell.length() >= 2 && cell.startsWith("`") && cell.endsWith("`") ? cell.substring(1, cell.length() - 1)
                : cell;
    }
}
