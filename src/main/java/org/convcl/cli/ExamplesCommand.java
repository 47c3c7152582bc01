package org.convcl.cli;

import java.io.PrintWriter;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import org.convcl.nn.Conv;
import org.convcl.ConvGeometry;
import org.convcl.Tensor;
import org.convcl.backend.BackendChoice;
import org.convcl.nn.Backends;
import org.convcl.backend.ConvBackend;
import org.convcl.cli.SeedExamples.Example;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code convcl examples}: runs the seed's example configurations on built-in random data (no files needed)
 * and prints, for each, its configuration, input and output shapes, the backend and the median time. It is
 * the first thing to run on a fresh machine: a quick end-to-end check that also shows what the tool does.
 */
@Command(name = "examples", mixinStandardHelpOptions = true, sortOptions = false, sortSynopsis = false,
        versionProvider = Version.class,
        header = "Runs the seed's example configurations on built-in random data and times them.",
        description = {"","Runs flax nnx.Conv's seed example configurations (SAME with zero, one and two batch "
                + "dims, VALID, causal, kernel and input dilation, CIRCULAR, REFLECT, four spatial dims) on "
                + "random data with a fixed seed, and prints each one's configuration, input -> output shape, "
                + "backend and median time. Exits 1 if an output shape differs from flax's.", ""})
final class ExamplesCommand implements Callable<Integer> {
    private static final int WARMUP_RUNS = 5;

    @Spec
    private CommandSpec spec;

    @Mixin
    private BackendOption backend;

    @Option(names = "--repeats", paramLabel = "N", defaultValue = "20",
            description = "Timed runs per example; the median is printed. Default: ${DEFAULT-VALUE}.")
    private int repeats;

    @Option(names = "--seed", paramLabel = "SEED", defaultValue = "42",
            description = "Seed of the random inputs, kernels and biases. Default: ${DEFAULT-VALUE}.")
    private long seed;

    @Override
    public Integer call() {
        if (repeats < 1) {
            throw new IllegalArgumentException("--repeats: got " + repeats + "; it must be >= 1");
        }
        BackendChoice choice = backend.parse();
        ConvBackend selected = Backends.select(choice);
        PrintWriter out = spec.commandLine().getOut();
        out.printf("convcl %s: flax nnx.Conv seed examples on random data (seed %d), backend %s, median of %d "
                + "runs%n%n", Version.number(), seed, selected.name(), repeats);
        String row = "%-28s  %-48s  %-46s  %10s  %8s%n";
        out.printf(row, "example", "configuration", "input -> output", "median", "GFLOP/s");
        SplittableRandom random = new SplittableRandom(seed);
        int mismatches = 0;
        for (Example example : SeedExamples.all()) {
            Tensor x = randomTensor(random, example.inputShape());
            Conv layer = Conv.builder(randomTensor(random, example.kernelShape()))
                    .bias(randomTensor(random, example.kernelShape()[example.kernelShape().length - 1]))
                    .spec(example.spec()).backend(selected).build();
            ConvGeometry geometry = layer.geometry(x.shape());
            Tensor y = null;
            for (int i = 0; i < WARMUP_RUNS; i++) {
                y = layer.apply(x);
            }
            long[] nanos = new long[repeats];
            for (int i = 0; i < repeats; i++) {
                long start = System.nanoTime();
                y = layer.apply(x);
                nanos[i] = System.nanoTime() - start;
            }
            double medianSeconds = median(nanos) * 1e-9;
            boolean asFlax = Arrays.equals(y.shape(), example.expectedOutputShape());
            mismatches += asFlax ? 0 : 1;
            String shapes = Arrays.toString(x.shape()) + " -> " + Arrays.toString(y.shape())
                    + (asFlax ? "" : " (flax: " + Arrays.toString(example.expectedOutputShape()) + ")");
            out.printf(row, example.name(), example.what(), shapes,
                    String.format("%.3f ms", medianSeconds * 1e3),
                    String.format("%.2f", geometry.flops() / medianSeconds * 1e-9));
        }
        out.printf("%n%d examples on %s; %s%n", SeedExamples.all().size(), selected.name(),
                mismatches == 0 ? "every output shape is flax's." : mismatches + " output shape(s) differ from flax's!");
        out.flush();
        return mismatches == 0 ? Main.EXIT_OK : Main.EXIT_IO;
    }

    private static Tensor randomTensor(SplittableRandom random, int... shape) {
        float[] values = new float[(int) Tensor.elementCount(shape)];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextDouble(-1, 1);
        }
        return Tensor.of(values, shape);
    }

    private static double median(long[] values) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        int middle = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2.0;
    }
}
