package org.convcl.cli;

import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import org.convcl.backend.BackendChoice;
import org.convcl.nn.Backends;
import org.convcl.examples.WaveNetTraining;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code convcl train-wavenet}: runs the worked example {@link WaveNetTraining} (a WaveNet-like stack of
 * causal dilated convolutions trained by plain gradient descent on a synthetic signal) and prints the loss
 * going down, so that the backward pass can be seen at work with one command and no files.
 */
@Command(name = "train-wavenet", mixinStandardHelpOptions = true, sortOptions = false, sortSynopsis = false,
        usageHelpWidth = 100,
        versionProvider = Version.class,
        header = "Trains a small WaveNet-like causal dilated conv stack by gradient descent and prints the loss.",
        description = {"",
            "The worked example org.convcl.examples.WaveNetTraining: causal convolutions of kernel size 2 with "
                + "dilations 1, 2, 4 and tanh, then a 1x1 readout, learn to predict the next sample of a sum of "
                + "sines (4 sequences of 128 samples) by full-batch gradient descent on the mean squared error, "
                + "with gradients from Conv.backward. The loss is printed every 10 steps and at the end.",
            ""})
final class TrainWavenetCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = "--steps", paramLabel = "N", defaultValue = "100",
            description = "Gradient-descent steps, >= 0. Default: ${DEFAULT-VALUE}.")
    private int steps;

    @Option(names = "--learning-rate", paramLabel = "LR", defaultValue = "0.2",
            description = "Step size, > 0 (too large a step makes the loss grow). Default: ${DEFAULT-VALUE}.")
    private float learningRate;

    @Option(names = "--seed", paramLabel = "SEED", defaultValue = "42",
            description = "Seed of the signal's phases and the initial weights. Default: ${DEFAULT-VALUE}.")
    private long seed;

    @Mixin
    private BackendOption backend;

    @Override
    public Integer call() {
        if (steps < 0) {
            throw new IllegalArgumentException("--steps: got " + steps + "; it must be >= 0");
        }
        if (!(learningRate > 0) || Float.isInfinite(learningRate)) {
            throw new IllegalArgumentException("--learning-rate: got " + learningRate + "; it must be a finite "
                    + "number > 0");
        }
        BackendChoice choice = backend.parse();
        PrintWriter out = spec.commandLine().getOut();
        List<Double> losses = WaveNetTraining.train(steps, learningRate, seed, Backends.select(choice), out);
        double first = losses.get(0);
        double last = losses.get(losses.size() - 1);
        if (Double.isFinite(last) && last < first) {
            out.printf("loss fell %.1f-fold in %d steps (%.6f -> %.6f)%n", first / last, steps, first, last);
        } else {
            out.printf("loss did not fall in %d steps (%.6f -> %.6f)%s%n", steps, first, last,
                    steps == 0 ? "" : "; try a smaller --learning-rate");
        }
        out.flush();
        return Main.EXIT_OK;
    }
}
