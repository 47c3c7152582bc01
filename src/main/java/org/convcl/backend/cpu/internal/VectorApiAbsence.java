package org.convcl.backend.cpu.internal;

/**
 * What a JVM without the Vector API costs and how to fix it, in the one WARN {@link CpuKernels} logs. The factors
 * are measured, not estimated: {@code java [--add-modules jdk.incubator.vector] -jar target/convcl-*-cli.jar bench
 * --backend cpu --batch cpu --shapes resnet3x3,depthwise3x3}, with and without the flag alternately, seven times
 * on the project's 2-core machine: medians 22 ms against 424 ms for resnet3x3 (batch 8, 56 x 56, 3 x 3, 64 to 64
 * channels; 19 times) and 16 ms against 62 ms for depthwise3x3 (4 times). The README's "Java library" section
 * has the runs.
 */
final class VectorApiAbsence {
    /** The incubator module the Vector API lives in, which the JVM opens only when asked. */
    static final String MODULE = "jdk.incubator.vector";

    static final String WARNING = "The JDK's Vector API is not enabled in this JVM, so convcl's Java path runs on "
            + "plain loops, about 19 times slower on a dense convolution (3x3, 64 -> 64 channels) and 4 times on "
            + "a depthwise one. Start the JVM with --add-modules " + MODULE + " (for java, MAVEN_OPTS, "
            + "Gradle and IDE run configurations: see the README's \"Java library\" section)";

    private VectorApiAbsence() {
    }
}
