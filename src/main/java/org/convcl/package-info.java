/**
 * The library's API: the layers {@link Conv} and {@link ConvTranspose} with their specs, geometries and gradients,
 * {@link Tensor}, and one-off calls ({@link Convolution}); the classes that implement them are package-private.
 */
package org.convcl;
