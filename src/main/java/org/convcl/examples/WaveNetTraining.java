package org.convcl.examples;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.convcl.nn.ConvGradients;
import org.convcl.Tensor;
import org.convcl.nn.Backends;
import org.convcl.backend.ConvBackend;

/**
 * Trains a {@link DilatedCausalStack} (causal convolutions with dilations 1, 2, 4, tanh, a 1x1 readout) by
 * plain full-batch gradient descent to predict the next sample of a sum of sines, printing the loss as it
 * goes down. A sum of sines is predictable from a few past samples (it obeys a linear recurrence), so the
 * 8-sample receptive field of the stack is enough.
 *
 * <p>Run: {@code scripts/convcl train-wavenet [--steps N] [--learning-rate LR]}, or
 * {@code java -cp target/classes org.convcl.examples.WaveNetTraining [steps] [learningRate]}.
 */
public final class WaveNetTraining {
    public static final int BATCH = 4;
    public static final int LENGTH = 128;
    public static final int CHANNELS = 8;
    public static final int[] DILATIONS = {1, 2, 4};
    public static final float LEARNING_RATE = 0.2f;

    private WaveNetTraining() {
    }

    public static void main(String[] args) {
        int steps = args.length > 0 ? Integer.parseInt(args[0]) : 100;
        float learningRate = args.length > 1 ? Float.parseFloat(args[1]) : LEARNING_RATE;
        train(steps, learningRate, 42, Backends.defaultBackend(), System.out);
    }

    /** Runs {@code steps} steps and returns the loss before each (and after the last), printing every tenth. */
    public static List<Double> train(int steps, float learningRate, long seed, ConvBackend backend, PrintStream out) {
        PrintWriter writer = new PrintWriter(out, true);
        List<Double> losses = train(steps, learningRate, seed, backend, writer);
        writer.flush();
        return losses;
    }

    /**
     * As {@link #train(int, float, long, ConvBackend, PrintStream)}, printing to a writer (the CLI's
     * {@code convcl train-wavenet} prints through its command's writer so that its output can be captured).
     */
    public static List<Double> train(int steps, float learningRate, long seed, ConvBackend backend, PrintWriter out) {
        Random random = new Random(seed);
        Tensor signal = sumOfSines(random);
        DilatedCausalStack model = new DilatedCausalStack(1, CHANNELS, DILATIONS, backend, random);
        out.printf("WaveNet-like stack: causal convolutions, dilations %s, %d channels, backend %s%n",
                Arrays.toString(DILATIONS), CHANNELS, backend.name());
        List<Double> losses = new ArrayList<>();
        for (int step = 0; step <= steps; step++) {
            DilatedCausalStack.Activations activations = model.forward(signal);
            float[] dOutput = new float[activations.output().size()];
            double loss = nextSampleLoss(activations.output().data(), signal.data(), dOutput);
            losses.add(loss);
            if (step % 10 == 0 || step == steps) {
                out.printf("step %4d  loss %.6f%n", step, loss);
                out.flush();
            }
            if (step < steps) {
                List<ConvGradients> gradients = model.backward(activations,
                        Tensor.of(dOutput, activations.output().shape()));
                model.step(gradients, learningRate);
            }
        }
        return losses;
    }

    /**
     * Mean squared error of predicting {@code signal[t + 1]} by {@code prediction[t]} over every sequence and
     * every t with a successor; writes its gradient with respect to the prediction into {@code dPrediction}.
     */
    static double nextSampleLoss(float[] prediction, float[] signal, float[] dPrediction) {
        int terms = BATCH * (LENGTH - 1);
        double loss = 0;
        for (int b = 0; b < BATCH; b++) {
            for (int t = 0; t < LENGTH - 1; t++) {
                int i = b * LENGTH + t;
                double error = prediction[i] - signal[i + 1];
                loss += error * error / terms;
                dPrediction[i] = (float) (2 * error / terms);
            }
        }
        return loss;
    }

    /** {@code (BATCH, LENGTH, 1)}: three sines of fixed periods, random phases per sequence. */
    static Tensor sumOfSines(Random random) {
        double[] periods = {16, 9.5, 5.3};
        double[] amplitudes = {0.5, 0.3, 0.15};
        float[] values = new float[BATCH * LENGTH];
        for (int b = 0; b < BATCH; b++) {
            double[] phases = {random.nextDouble() * 2 * Math.PI, random.nextDouble() * 2 * Math.PI,
                random.nextDouble() * 2 * Math.PI};
            for (int t = 0; t < LENGTH; t++) {
                double v = 0;
                for (int s = 0; s < periods.length; s++) {
                    v += amplitudes[s] * Math.sin(2 * Math.PI * t / periods[s] + phases[s]);
                }
                values[b * LENGTH + t] = (float) v;
            }
        }
        return Tensor.of(values, BATCH, LENGTH, 1);
    }
}
