package org.convcl.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import org.junit.jupiter.api.Test;

/**
 * The CLI jar keeps every licence and notice text of the libraries bundled into it: where two libraries have a file
 * of the same name (slf4j-api's and slf4j-simple's META-INF/LICENSE.txt, one text), the CLI jar's file holds each
 * library's text, not merely whichever came first. Each library's own jar, from this test's class path, is the
 * reference.
 */
class CliJarLicencesIT {
    /** One class of each library the CLI jar bundles, to find that library's jar. */
    private static final List<String> BUNDLED = List.of("org.slf4j.LoggerFactory", "org.slf4j.simple.SimpleLogger",
            "picocli.CommandLine", "org.jocl.CL");

    @Test
    void everyLicenceAndNoticeTextOfEveryBundledLibraryIsInTheCliJar() throws Exception {
        Path project = Paths.get(System.getProperty("convcl.basedir", System.getProperty("user.dir")));
        Path cliJar;
        try (Stream<Path> jars = Files.list(project.resolve("target"))) {
            cliJar = jars.filter(p -> p.getFileName().toString().matches("convcl-.*-cli\\.jar")).findFirst()
                    .orElse(null);
        }
        assumeTrue(cliJar != null, "the CLI jar is built by mvn package");
        List<String> checked = new ArrayList<>();
        try (JarFile cli = new JarFile(cliJar.toFile())) {
            for (String className : BUNDLED) {
                try (JarFile library = new JarFile(jarOf(className).toFile())) {
                    for (ZipEntry entry : Collections.list(library.entries())) {
                        if (!entry.getName().matches("META-INF/[^/]*(LICENSE|NOTICE)[^/]*")) {
                            continue;
                        }
                        String text = new String(library.getInputStream(entry).readAllBytes(), StandardCharsets.UTF_8);
                        ZipEntry shaded = cli.getEntry(entry.getName());
                        assertNotNull(shaded, entry.getName() + " of " + library.getName() + " is in the CLI jar");
                        String shadedText = new String(cli.getInputStream(shaded).readAllBytes(), StandardCharsets.UTF_8);
                        assertTrue(shadedText.contains(text.strip()), "the CLI jar's " + entry.getName()
                                + " holds the text of " + library.getName() + "'s");
                        checked.add(library.getName() + "!" + entry.getName());
                    }
                }
            }
        }
        assertFalse(checked.isEmpty(), "the libraries have licence files to check");
        assertTrue(checked.stream().filter(name -> name.endsWith("!META-INF/LICENSE.txt")).count() >= 2,
                "both SLF4J licences were checked: " + checked);
    }

    private static Path jarOf(String className) throws ClassNotFoundException, IOException, URISyntaxException {
        Path location = Path.of(Class.forName(className).getProtectionDomain().getCodeSource().getLocation().toURI());
        assertTrue(Files.isRegularFile(location), className + " comes from a jar: " + location);
        return location;
    }
}
