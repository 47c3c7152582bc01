package org.convcl.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs a command in a separate process with its output captured, for what can only be seen from outside a JVM:
 * what it logs at start-up, what native code writes to its standard error, how it exits.
 */
public final class Processes {
    private Processes() {
    }

    /** How a process ended and what it wrote. */
    public record Outcome(int exitCode, String stdout, String stderr) {
        /** Both streams, for assertion messages. */
        public String all() {
            return "stdout:\n" + stdout + "\nstderr:\n" + stderr;
        }
    }

    /**
     * Runs {@code command} with this JVM's environment changed by {@code environment} (a null value removes the
     * variable), stdin closed, and waits up to {@code timeoutSeconds}.
     */
    public static Outcome run(List<String> command, Map<String, String> environment, int timeoutSeconds)
            throws IOException, InterruptedException {
        return run(command, environment, null, timeoutSeconds);
    }

    /** As {@link #run(List, Map, int)}, in the working directory {@code directory} (null: this JVM's). */
    public static Outcome run(List<String> command, Map<String, String> environment, Path directory,
            int timeoutSeconds) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(command);
        if (directory != null) {
            builder.directory(directory.toFile());
        }
        environment.forEach((name, value) -> {
            if (value == null) {
                builder.environment().remove(name);
            } else {
                builder.environment().put(name, value);
            }
        });
        Path out = Files.createTempFile("convcl-process", ".out");
        Path err = Files.createTempFile("convcl-process", ".err");
        try {
            Process process = builder.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            process.getOutputStream().close();
            boolean finished = process.waitFor(timeoutSeconds, TimeUnit.SECONDS);
            if (!finished) {
                process.destroyForcibly();
            }
            assertTrue(finished, "finished within " + timeoutSeconds + " s: " + command);
            return new Outcome(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /**
     * {@code java [jvmOptions] -cp <this JVM's class path> mainClass [args]} with this JVM's {@code java}: a fresh
     * JVM that sees the same classes (the library, the tests and their dependencies) but none of this JVM's
     * options, so that each test states the ones it runs with.
     */
    public static List<String> javaCommand(List<String> jvmOptions, Class<?> mainClass, String... args) {
        List<String> command = new ArrayList<>();
        command.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(mainClass.getName());
        command.addAll(List.of(args));
        return command;
    }
}
