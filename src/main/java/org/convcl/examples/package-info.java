/**
 * Worked examples of the library in use: {@link WaveNetTraining} trains a stack of causal dilated convolutions
 * ({@link DilatedCausalStack}) by gradient descent on {@link org.convcl.nn.Conv#backward} ({@code convcl train-wavenet}).
 */
package org.convcl.examples;
