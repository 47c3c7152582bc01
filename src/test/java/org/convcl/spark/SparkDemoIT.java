package org.convcl.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.convcl.testing.Processes;
import org.junit.jupiter.api.Test;

/**
 * {@code scripts/spark-demo} end to end, as a user runs it (smaller): it builds its class path with Maven, starts a
 * local[2] Spark with the JVM options Spark needs on Java 17, and every row of both cases matches the Java path.
 * Runs in {@code mvn verify} (failsafe), with the Maven and local repository of the build that runs it.
 */
class SparkDemoIT {
    /** A case's line: name, rows, shapes, seconds, rows/s, max_rel_err, off, missing. */
    private static final Pattern CASE_LINE = Pattern.compile(
            "(?m)^(same3x3|knobs)\\s+(\\d+)\\s+(\\S+)\\s+(\\S+)\\s+([0-9.]+)\\s+([0-9.]+)\\s+(\\S+)\\s+(\\d+)\\s+(\\d+)\\s");

    @Test
    void everyRowOfBothCasesMatchesTheJavaPath() throws Exception {
        Path project = Paths.get(System.getProperty("convcl.basedir", System.getProperty("user.dir")));
        String mavenHome = System.getProperty("convcl.maven.home");
        assumeTrue(mavenHome != null && Files.isDirectory(Paths.get(mavenHome)),
                "the Maven running this build (failsafe passes convcl.maven.home)");
        Map<String, String> environment = new HashMap<>();
        environment.put("PATH", Paths.get(mavenHome, "bin") + ":" + System.getenv("PATH"));
        environment.put("MAVEN_OPTS", "-Dmaven.repo.local=" + System.getProperty("convcl.maven.localRepository"));
        environment.put("JAVA_HOME", System.getProperty("java.home"));

        Processes.Outcome demo = Processes.run(List.of(project.resolve("scripts").resolve("spark-demo").toString(),
                "--rows", "300", "--partitions", "3", "--batch-size", "32"), environment, project, 300);

        assertEquals(0, demo.exitCode(), demo.all());
        Matcher lines = CASE_LINE.matcher(demo.stdout());
        int cases = 0;
        while (lines.find()) {
            cases++;
            assertEquals("300", lines.group(2), lines.group());
            assertTrue(Double.parseDouble(lines.group(7)) <= 1e-5, "max_rel_err: " + lines.group());
            assertEquals("0", lines.group(8), "rows off: " + lines.group());
            assertEquals("0", lines.group(9), "rows missing: " + lines.group());
        }
        assertEquals(2, cases, demo.all());
        assertTrue(demo.stdout().contains("32x32x3   32x32x16"), demo.all());
        assertTrue(demo.stdout().contains("spark-demo: every row matches convcl's Java path"), demo.all());
        assertTrue(demo.stderr().contains("INFO org.convcl.spark.ExecutorConvs - convcl: executor driver runs "
                + "ConvTransformer"), "the executor's line naming its backend: " + demo.all());
    }
}
