package org.convcl.release;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.convcl.testing.DockerfileModel;
import org.junit.jupiter.api.Test;

/**
 * No container engine runs here or in CI, so the image is never built by the tests. What keeps its RUN steps
 * working is that each is a command that the README or CI's .ci/run runs (and so is run, and tested, here): the
 * same build command, and packages that one of them installs. The one exception is removing apt's package lists,
 * which only makes the image smaller. The build runs no tests (they belong to CI, not to `docker build`).
 */
class DockerfileTest {
    /** Image hygiene that changes nothing a later command sees but the image's size. */
    private static final String APT_LISTS_CLEANUP = "rm -rf /var/lib/apt/lists/*";
    private static final Pattern README_INSTALL = Pattern.compile("apt-get install ([^`\\n]*)");
    private static final Pattern CI_PACKAGES = Pattern.compile("packages\\+?=\\(([^)]*)\\)");
    private static final String APT_INSTALL = "apt-get install ";

    private static final Path PROJECT = Paths.get(System.getProperty("user.dir"));

    @Test
    void everyRunStepIsACommandTheReadmeOrCiRuns() throws IOException {
        String readme = Files.readString(PROJECT.resolve("README.md"));
        String ci = Files.readString(PROJECT.resolve(".ci/run"));
        Set<String> installed = installedPackages(readme, ci);
        DockerfileModel dockerfile = DockerfileModel.read(PROJECT.resolve("Dockerfile"));
        int checked = 0;
        for (DockerfileModel.Stage stage : dockerfile.stages()) {
            for (String command : stage.commands()) {
                checked++;
                if (command.equals(APT_LISTS_CLEANUP)) {
                    continue;
                }
                if (command.startsWith(APT_INSTALL)) {
                    for (String pkg : words(command.substring(APT_INSTALL.length()))) {
                        assertTrue(installed.contains(pkg), "Dockerfile installs " + pkg
                                + ", which neither the README nor .ci/run installs (they install " + installed + ")");
                    }
                    continue;
                }
                assertTrue(readme.contains(command) || ci.contains(command),
                        "Dockerfile runs `" + command + "`, which neither the README nor .ci/run runs");
            }
        }
        assertTrue(checked > 0, "the Dockerfile has RUN steps");
    }

    @Test
    void theImageBuildRunsNoTests() throws IOException {
        List<String> builds = DockerfileModel.read(PROJECT.resolve("Dockerfile")).stages().stream()
                .flatMap(stage -> stage.commands().stream()).filter(command -> command.startsWith("mvn "))
                .collect(Collectors.toList());
        assertFalse(builds.isEmpty(), "the Dockerfile builds the project");
        for (String build : builds) {
            assertTrue(Arrays.asList(build.split("\\s+")).contains("-DskipTests"),
                    "`" + build + "` in the Dockerfile skips the tests");
        }
    }

    /** The packages named by the README's `apt-get install` lines and by .ci/run's packages arrays. */
    private static Set<String> installedPackages(String readme, String ci) {
        Set<String> packages = new TreeSet<>();
        Matcher readmeInstall = README_INSTALL.matcher(readme);
        while (readmeInstall.find()) {
            packages.addAll(words(readmeInstall.group(1)));
        }
        Matcher ciPackages = CI_PACKAGES.matcher(ci);
        while (ciPackages.find()) {
            packages.addAll(words(ciPackages.group(1)));
        }
        return packages;
    }

    /** The words of a command line that are not options. */
    private static List<String> words(String line) {
        return Arrays.stream(line.trim().split("\\s+")).filter(word -> !word.isEmpty() && !word.startsWith("-"))
                .collect(Collectors.toList());
    }
}
