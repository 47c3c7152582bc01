package org.convcl.cli;

import java.util.List;
import java.util.stream.Stream;
import org.convcl.testing.OpenClTesting;
import org.junit.jupiter.params.provider.Arguments;

/**
 * The backends the CLI's golden and gradient tests run on, by their {@code --backend} names: the Java path,
 * and OpenCL wherever a device exists (always in CI, where a missing device fails the tests instead).
 */
final class CliBackends {
    static final List<String> ALL = OpenClTesting.deviceIfAny().isPresent() ? List.of("cpu", "opencl")
            : List.of("cpu");

    private CliBackends() {
    }

    /** The backend names, as a parameter source. */
    static Stream<String> names() {
        return ALL.stream();
    }

    /** Every item crossed with every backend: {@code (item, backend)} arguments for a parameterised test. */
    static Stream<Arguments> crossedWith(Stream<?> items) {
        return items.flatMap(item -> ALL.stream().map(backend -> Arguments.of(item, backend)));
    }
}
