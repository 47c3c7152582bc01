package org.convcl.examples;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.convcl.nn.Conv;
import org.convcl.nn.ConvGradients;
import org.convcl.ConvSpec;
import org.convcl.Padding;
import org.convcl.Tensor;
import org.convcl.backend.ConvBackend;

/**
 * A WaveNet-like stack for 1-d signals {@code (batch, time, channels)}: causal convolutions with kernel size 2
 * and dilations 1, 2, 4, ... (each output sees only the present and the past, and the receptive field doubles
 * per layer), a tanh after each, then a 1x1 convolution reading out one value per time step.
 *
 * <p>{@link #forward} keeps every layer's activation, {@link #backward} runs the chain rule through them
 * (tanh' = 1 - tanh^2 by hand, the convolutions through {@link Conv#backward}), and {@link #step} applies
 * plain gradient descent to the parameters in place. Not thread-safe.
 */
public final class DilatedCausalStack {
    private final List<Conv> hidden = new ArrayList<>();
    private final Conv readout;

    /**
     * @param dilations one causal layer per entry, in order
     * @param channels  width of every hidden layer
     */
    public DilatedCausalStack(int inChannels, int channels, int[] dilations, ConvBackend backend, Random random) {
        int in = inChannels;
        for (int dilation : dilations) {
            ConvSpec causal = ConvSpec.builder().padding(Padding.CAUSAL).kernelDilation(dilation).build();
            hidden.add(Conv.builder(lecunNormal(random, 2, in, channels)).bias(Tensor.zeros(channels)).spec(causal)
                    .backend(backend).build());
            in = channels;
        }
        readout = Conv.builder(lecunNormal(random, 1, channels, 1)).bias(Tensor.zeros(1))
                .spec(ConvSpec.builder().padding(Padding.VALID).build()).backend(backend).build();
    }

    /** Activations of one forward pass: the input, each hidden layer's tanh output, and the readout. */
    public record Activations(List<Tensor> layers, Tensor output) {
    }

    public Activations forward(Tensor x) {
        List<Tensor> layers = new ArrayList<>();
        layers.add(x);
        Tensor h = x;
        for (Conv layer : hidden) {
            h = tanh(layer.apply(h));
            layers.add(h);
        }
        return new Activations(layers, readout.apply(h));
    }

    /** Gradients of {@code sum(output * dOutput)} for every layer, readout last, in the order of {@link #step}. */
    public List<ConvGradients> backward(Activations activations, Tensor dOutput) {
        List<Tensor> layers = activations.layers();
        List<ConvGradients> gradients = new ArrayList<>();
        ConvGradients readoutGradients = readout.backward(layers.get(layers.size() - 1), dOutput);
        Tensor dh = readoutGradients.dx();
        for (int i = hidden.size() - 1; i >= 0; i--) {
            Tensor dPreActivation = tanhBackward(layers.get(i + 1), dh);
            ConvGradients g = hidden.get(i).backward(layers.get(i), dPreActivation);
            gradients.add(0, g);
            dh = g.dx();
        }
        gradients.add(readoutGradients);
        return gradients;
    }

    /** {@code parameter -= learningRate * gradient} for every kernel and bias, in place. */
    public void step(List<ConvGradients> gradients, float learningRate) {
        List<Conv> layers = new ArrayList<>(hidden);
        layers.add(readout);
        for (int i = 0; i < layers.size(); i++) {
            descend(layers.get(i).kernel(), gradients.get(i).dkernel(), learningRate);
            descend(layers.get(i).bias(), gradients.get(i).dbias(), learningRate);
        }
    }

    private static void descend(Tensor parameter, Tensor gradient, float learningRate) {
        float[] values = parameter.data();
        float[] g = gradient.data();
        for (int i = 0; i < values.length; i++) {
            values[i] -= learningRate * g[i];
        }
    }

    private static Tensor tanh(Tensor t) {
        float[] in = t.data();
        float[] out = new float[in.length];
        for (int i = 0; i < in.length; i++) {
            out[i] = (float) Math.tanh(in[i]);
        }
        return Tensor.of(out, t.shape());
    }

    /** d/dz of sum(tanh(z) * upstream), given h = tanh(z): upstream * (1 - h^2). */
    private static Tensor tanhBackward(Tensor h, Tensor upstream) {
        float[] hv = h.data();
        float[] up = upstream.data();
        float[] out = new float[hv.length];
        for (int i = 0; i < hv.length; i++) {
            out[i] = up[i] * (1 - hv[i] * hv[i]);
        }
        return Tensor.of(out, h.shape());
    }

    /** flax's default kernel init: normal with variance 1 / fan_in, fan_in = taps * in. */
    private static Tensor lecunNormal(Random random, int taps, int in, int out) {
        float[] values = new float[taps * in * out];
        double std = 1 / Math.sqrt(taps * in);
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (random.nextGaussian() * std);
        }
        return Tensor.of(values, taps, in, out);
    }
}
