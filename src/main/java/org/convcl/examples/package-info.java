/**
 * Worked examples of the library in use. {@link org.convcl.examples.WaveNetTraining} trains a WaveNet-like
 * stack of causal dilated convolutions by plain gradient descent with {@link org.convcl.Conv#backward}:
 * {@code scripts/convcl train-wavenet [--steps N] [--learning-rate LR]}, or without the CLI jar
 * {@code java -cp target/classes org.convcl.examples.WaveNetTraining [steps] [learningRate]}.
 */
package org.convcl.examples;
