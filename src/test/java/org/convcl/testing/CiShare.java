package org.convcl.testing;

import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * Splits a long list of device test cases between the default run and the exhaustive one ({@code mvn -o -B test
 * -Pexhaustive}, JUnit tag "exhaustive"): on PoCL each case compiles programs of its own, and every case of every
 * such list would take CI past its time. The default run takes every {@code n}-th case (the first included), a
 * deterministic spread over the list; the exhaustive run takes the others, so that the two together run them all.
 */
public final class CiShare {
    private CiShare() {
    }

    /** Every {@code n}-th of {@code cases}, from the first: the default run's share. */
    public static <T> Stream<T> defaultRun(List<T> cases, int n) {
        return IntStream.range(0, cases.size()).filter(i -> i % n == 0).mapToObj(cases::get);
    }

    /** The cases {@link #defaultRun} leaves out: the exhaustive run's share. */
    public static <T> Stream<T> exhaustiveRun(List<T> cases, int n) {
        return IntStream.range(0, cases.size()).filter(i -> i % n != 0).mapToObj(cases::get);
    }
}
