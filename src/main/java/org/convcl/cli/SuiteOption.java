package org.convcl.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.convcl.bench.BenchSuite;

/**
 * The {@code --suite} value of bench and tune: the name of an embedded suite ({@link BenchSuite#NAMED}) selects
 * it; anything else is the path of a suite file, checked as an input before any work. A name wins over a file of
 * that name in the working directory ({@code ./resnet50} is the file), so that a stray file never changes what a
 * documented command measures.
 */
final class SuiteOption {
    static final String LABEL = "NAME|FILE";
    /** The help text; {@code CliUsageTest}-style checks hold it to {@link BenchSuite#NAMED}. */
    static final String DESCRIPTION = "An embedded suite by name: resnet50 or resnet18 (the network's distinct "
            + "convolution shapes, each with its count); anything else is a suite JSON file (./NAME for a file "
            + "called like a suite). Default: the embedded bench/shapes.json.";

    private SuiteOption() {
    }

    /** The suite file that {@code value} names: null where it names an embedded suite or is null. */
    static Path file(String value) {
        if (value == null || BenchSuite.NAMED.contains(value)) {
            return null;
        }
        Path path = Path.of(value);
        if (!Files.exists(path)) {
            throw new IllegalArgumentException("--suite " + value + ": no such file, nor an embedded suite; a "
                    + "suite is an existing file or one of " + BenchSuite.NAMED);
        }
        PathChecks.checkInput("--suite", path);
        return path;
    }

    /** The suite {@code value} selects (the default suite where it is null), after {@link #file}'s checks. */
    static BenchSuite load(String value) throws IOException {
        if (value == null) {
            return BenchSuite.loadDefault();
        }
        Path path = file(value);
        return path == null ? BenchSuite.loadNamed(value) : BenchSuite.load(path);
    }
}
