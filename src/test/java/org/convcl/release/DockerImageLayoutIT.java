package org.convcl.release;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.convcl.testing.DockerfileModel;
import org.convcl.testing.Processes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The runtime image's files, laid out as its COPY steps lay them (from the build context, or from the build stage,
 * whose working directory holds a copy of the project after `mvn package`), under a temporary root instead of
 * {@code /}; its ENTRYPOINT then finds the CLI jar there and runs it. This is what no container engine checks here:
 * that scripts/convcl, where the image puts it, finds the jar where the image puts it. Runs in {@code mvn verify}
 * after {@code package} (failsafe); skipped when the CLI jar is not built.
 */
class DockerImageLayoutIT {
    private static final int TIMEOUT_SECONDS = 120;

    @TempDir
    Path root;

    @Test
    void theEntrypointRunsTheCliJarWhereTheImagePutsIt() throws Exception {
        Path project = Paths.get(System.getProperty("convcl.basedir", System.getProperty("user.dir")));
        String version = System.getProperty("convcl.version");
        assumeTrue(version != null, "runs under Maven (failsafe), which passes the project's version");
        DockerfileModel dockerfile = DockerfileModel.read(project.resolve("Dockerfile"));
        DockerfileModel.Stage image = dockerfile.finalStage();
        int copied = 0;
        for (DockerfileModel.Copy copy : image.copies()) {
            String sourceDirectory = "";
            if (copy.fromStage() != null) {
                // The build stage copied the whole project into its working directory and built it there.
                sourceDirectory = dockerfile.stage(copy.fromStage()).workdir();
            }
            for (String source : copy.sources()) {
                List<Path> files = matching(project, relativeTo(sourceDirectory, source));
                if (source.contains("-cli.jar")) {
                    assumeTrue(!files.isEmpty(), "the CLI jar is built by mvn package");
                }
                assertFalse(files.isEmpty(), "COPY " + source + " finds files in the project");
                Path destination = inRoot(DockerfileModel.join(copy.workdir(), copy.destination()));
                for (Path file : files) {
                    Files.createDirectories(destination);
                    Files.copy(file, destination.resolve(file.getFileName()), StandardCopyOption.COPY_ATTRIBUTES);
                    copied++;
                }
            }
        }
        assertTrue(copied > 0, "the runtime stage copies files");
        List<String> command = new ArrayList<>(image.entrypoint());
        assertFalse(command.isEmpty(), "the runtime stage has an exec-form ENTRYPOINT");
        command.set(0, inRoot(command.get(0)).toString());
        command.add("--version");
        Map<String, String> environment = new HashMap<>();
        environment.put("JAVA_HOME", System.getProperty("java.home"));
        Processes.Outcome outcome = Processes.run(command, environment, root, TIMEOUT_SECONDS);
        assertEquals(0, outcome.exitCode(), "the entrypoint in the image's layout: " + outcome.all());
        assertTrue(outcome.all().contains("convcl " + version), "it runs this build's CLI jar: " + outcome.all());
    }

    /** A path of the image, under the temporary root. */
    private Path inRoot(String imagePath) {
        return root.resolve(imagePath.replaceFirst("^/+", "")).normalize();
    }

    /** A COPY source relative to the directory it was copied from (the build context is the project itself). */
    private static String relativeTo(String directory, String source) {
        if (directory.isEmpty()) {
            return source;
        }
        String prefix = directory.endsWith("/") ? directory : directory + "/";
        assertTrue(source.startsWith(prefix), "COPY --from source " + source + " lies in the stage's " + directory);
        return source.substring(prefix.length());
    }

    /** The project's files that a COPY source names: a path whose last part may hold a glob. */
    private static List<Path> matching(Path project, String source) throws IOException {
        Path path = project.resolve(source);
        List<Path> files = new ArrayList<>();
        if (!path.getFileName().toString().contains("*")) {
            if (Files.isRegularFile(path)) {
                files.add(path);
            }
            return files;
        }
        if (!Files.isDirectory(path.getParent())) {
            return files;
        }
        try (DirectoryStream<Path> found = Files.newDirectoryStream(path.getParent(), path.getFileName().toString())) {
            found.forEach(files::add);
        }
        return files;
    }
}
