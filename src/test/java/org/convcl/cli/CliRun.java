package org.convcl.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** One in-process run of the CLI, through the same entry point as the jar, with its streams captured. */
record CliRun(int exitCode, String stdout, String stderr) {

    static CliRun of(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code;
        try (PrintWriter outWriter = new PrintWriter(out, true); PrintWriter errWriter = new PrintWriter(err, true)) {
            code = Main.execute(outWriter, errWriter, args);
        }
        return new CliRun(code, out.toString(), err.toString());
    }

    static CliRun of(List<String> args) {
        return of(args.toArray(String[]::new));
    }

    /** The failure contract: this exit code, one line {@code convcl: ...} on stderr, nothing on stdout. */
    String assertFailure(int expectedCode, Path output) {
        assertEquals(expectedCode, exitCode, "exit code; stderr: " + stderr);
        assertEquals("", stdout, "stdout of a failure");
        String[] lines = stderr.split("\\R", -1);
        assertTrue(lines.length == 2 && lines[1].isEmpty(), "exactly one line on stderr, got: " + stderr);
        assertTrue(lines[0].startsWith("convcl: "), "the line starts with 'convcl: ': " + lines[0]);
        assertFalse(lines[0].contains("\tat "), "no stack trace: " + lines[0]);
        if (output != null) {
            assertFalse(Files.exists(output), "no output file after a failure: " + output);
            try (var siblings = Files.list(output.toAbsolutePath().getParent())) {
                assertTrue(siblings.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")),
                        "no temporary file left beside the output");
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        return lines[0];
    }

    /** After a failure: none of {@code outputs} exists, nor a temporary file beside any of them. */
    static void assertNoneWritten(Path... outputs) {
        for (Path output : outputs) {
            assertFalse(Files.exists(output), "no output file after a failure: " + output);
            try (var siblings = Files.list(output.toAbsolutePath().getParent())) {
                assertTrue(siblings.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")),
                        "no temporary file left beside " + output);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }

    void assertSuccess() {
        assertEquals(Main.EXIT_OK, exitCode, "exit code; stderr: " + stderr);
    }
}
