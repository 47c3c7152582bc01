package org.convcl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import org.junit.jupiter.api.Test;

/**
 * What the published jars say about themselves: the library jar's manifest carries the pom's version, name,
 * organization and license; every jar holds the project's LICENSE and NOTICE; and the NOTICE names exactly the
 * third-party artifacts that the CLI jar bundles, found by looking for each test class path jar's classes in the CLI
 * jar, so that a dependency added to (or dropped from) the CLI jar without its notice fails here. Runs in
 * {@code mvn verify} after {@code package} (failsafe), which passes the pom's values; skipped outside it.
 */
class ReleaseArtifactsIT {
    /** How NOTICE names an artifact: {@code (groupId:artifactId)}. */
    private static final Pattern NAMED_ARTIFACT = Pattern.compile("\\(([\\w.-]+):([\\w.-]+)\\)");

    private static Path project() {
        return Paths.get(System.getProperty("convcl.basedir", System.getProperty("user.dir")));
    }

    private static Path builtJar(String property) {
        String path = System.getProperty(property);
        assumeTrue(path != null, "runs under Maven (failsafe), which passes " + property);
        Path jar = Paths.get(path);
        assumeTrue(Files.isRegularFile(jar), "built by mvn package: " + jar);
        return jar;
    }

    private static Path cliJar() throws IOException {
        Path library = builtJar("convcl.jar");
        String cliName = library.getFileName().toString().replaceFirst("\\.jar$", "-cli.jar");
        Path cli = library.resolveSibling(cliName);
        assumeTrue(Files.isRegularFile(cli), "built by mvn package: " + cli);
        return cli;
    }

    @Test
    void theLibraryJarsManifestCarriesTheVersionNameVendorAndLicenseOfThePom() throws IOException {
        try (JarFile jar = new JarFile(builtJar("convcl.jar").toFile())) {
            Attributes main = jar.getManifest().getMainAttributes();
            assertEquals(System.getProperty("convcl.version"), main.getValue("Implementation-Version"));
            assertEquals(System.getProperty("convcl.name"), main.getValue("Implementation-Title"));
            assertEquals(System.getProperty("convcl.vendor"), main.getValue("Implementation-Vendor"));
            String license = System.getProperty("convcl.license.spdx") + ";link=\""
                    + System.getProperty("convcl.license.url") + "\"";
            assertEquals(license, main.getValue("Bundle-License"));
        }
    }

    @Test
    void everyJarHoldsTheProjectsLicenseAndNotice() throws IOException {
        byte[] license = Files.readAllBytes(project().resolve("LICENSE"));
        byte[] notice = Files.readAllBytes(project().resolve("NOTICE"));
        for (Path path : List.of(builtJar("convcl.jar"), builtJar("convcl.sourcesJar"), cliJar())) {
            try (JarFile jar = new JarFile(path.toFile())) {
                assertArrayEquals(license, read(jar, "META-INF/LICENSE"), path + "'s META-INF/LICENSE");
                assertArrayEquals(notice, read(jar, "META-INF/NOTICE"), path + "'s META-INF/NOTICE");
            }
        }
    }

    @Test
    void theNoticeNamesExactlyTheThirdPartyArtifactsTheCliJarBundles() throws IOException {
        Path repository = Paths.get(System.getProperty("convcl.maven.localRepository", "absent"));
        assumeTrue(Files.isDirectory(repository), "runs under Maven (failsafe), which names its local repository");
        Set<String> bundled = new TreeSet<>();
        try (JarFile cli = new JarFile(cliJar().toFile())) {
            for (Path jar : classPathJarsUnder(repository)) {
                if (isWhollyInside(jar, cli)) {
                    bundled.add(coordinates(repository.relativize(jar)));
                }
            }
        }
        assertFalse(bundled.isEmpty(), "the CLI jar bundles libraries from the class path");
        String notice = Files.readString(project().resolve("NOTICE"), StandardCharsets.UTF_8);
        Set<String> named = new TreeSet<>();
        Matcher matcher = NAMED_ARTIFACT.matcher(notice);
        while (matcher.find()) {
            named.add(matcher.group(1) + ":" + matcher.group(2));
        }
        assertEquals(bundled, named, "NOTICE names, as (groupId:artifactId), each artifact the CLI jar bundles");
    }

    private static byte[] read(JarFile jar, String name) throws IOException {
        ZipEntry entry = jar.getEntry(name);
        assertNotNull(entry, name + " is in " + jar.getName());
        return jar.getInputStream(entry).readAllBytes();
    }

    /** The test JVM's class path (failsafe sets java.class.path to it) as the jars from the local repository. */
    private static List<Path> classPathJarsUnder(Path repository) {
        Path root = repository.toAbsolutePath().normalize();
        return Stream.of(System.getProperty("java.class.path").split(Pattern.quote(File.pathSeparator)))
                .map(entry -> Paths.get(entry).toAbsolutePath().normalize())
                .filter(path -> path.startsWith(root) && path.toString().endsWith(".jar") && Files.isRegularFile(path))
                .collect(Collectors.toList());
    }

    /** Every class of the library (module descriptors aside, which the CLI jar leaves out) is in the CLI jar. */
    private static boolean isWhollyInside(Path library, JarFile cli) throws IOException {
        try (JarFile jar = new JarFile(library.toFile())) {
            List<String> classes = Collections.list(jar.entries()).stream().map(ZipEntry::getName)
                    .filter(name -> name.endsWith(".class") && !name.endsWith("module-info.class"))
                    .collect(Collectors.toList());
            return !classes.isEmpty() && classes.stream().allMatch(name -> cli.getEntry(name) != null);
        }
    }

    /** groupId:artifactId of a jar from its place in a Maven repository: group/path/artifact/version/file.jar. */
    private static String coordinates(Path inRepository) {
        int count = inRepository.getNameCount();
        assertTrue(count >= 4, "a repository path has group, artifact, version and file: " + inRepository);
        String artifact = inRepository.getName(count - 3).toString();
        String group = inRepository.subpath(0, count - 3).toString().replace(File.separatorChar, '.');
        return group + ":" + artifact;
    }
}
